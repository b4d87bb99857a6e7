/** Audit rows written by the admin CLI. */
import { userInfo } from "node:os";
import { sqlValue } from "./d1.ts";

/**
 * An audit row for a CLI action, attributed to the operating-system user who ran it. Rows
 * never hold passwords or tokens. (`prev_hash`/`hash` are filled once the audit hash chain
 * exists; see the permissions and audit issue.)
 */
export function auditInsert(at: number, action: string, target: string, details: object): string {
  const operator = { ...details, via: "admin-cli", osUser: safeUserName() };
  return `INSERT INTO audit_log (at, actor_type, actor_id, action, target, outcome, ip, user_agent,
      details)
    VALUES (${at}, 'cli', NULL, ${sqlValue(action)}, ${sqlValue(target)}, 'success', NULL,
      'parley-admin', ${sqlValue(JSON.stringify(operator))})`;
}

function safeUserName(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null; // no passwd entry for this uid (some containers)
  }
}
