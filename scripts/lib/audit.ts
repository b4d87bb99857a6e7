/**
 * The admin CLI's side of the audit hash chain: its rows join the same chain as the
 * Worker's (same module, same rules), and `npm run audit:verify` walks the chain. The CLI
 * reads the head, computes id, prev_hash and hash here in Node, and inserts with the
 * explicit id: if the Worker's writer took that id meanwhile, the primary key fails the
 * whole batch (the change and its audit row) instead of forking the chain, and the batch is
 * built again on the new head once.
 */
import { userInfo } from "node:os";
import {
  type AuditChainResult,
  type AuditRow,
  type AuditRowContent,
  CHECKPOINT_ACTION,
  type ChainHead,
  chainAfterHead,
  verifyAuditChain,
} from "../../src/security/audit-chain.ts";
import {
  AUDIT_COLUMN_LIST,
  AUDIT_ID_CONFLICT,
  auditRowValues,
} from "../../src/store/audit-table.ts";
import { CliError } from "./cli.ts";
import { D1Error, type D1Target, d1Execute, d1Query, type Row, sqlValue } from "./d1.ts";

/** One CLI action to record, attributed to the operating-system user who ran it. */
export interface CliAuditAction {
  at: number;
  action: string;
  target: string | null;
  /** Never passwords or tokens. */
  details: object;
  outcome?: "success" | "failure";
}

/**
 * Runs `statements` and the audit rows of `audit` as one batch (they succeed or fail
 * together), the rows chained after `head` — the command read it with its checks
 * (CHAIN_HEAD_COLUMNS), saving a wrangler run — or after the head read now. A lost race for
 * the id is retried once on a fresh head; any other failure is thrown as is (e.g. a D1Error).
 */
export async function d1ExecuteAudited(
  target: D1Target,
  statements: string[],
  audit: CliAuditAction | CliAuditAction[],
  head?: ChainHead,
): Promise<Row[][]> {
  const actions = Array.isArray(audit) ? audit : [audit];
  for (let attempt = 1; ; attempt++) {
    const inserts = await chainedAuditInserts(target, actions, attempt === 1 ? head : undefined);
    try {
      const results = await d1Execute(target, [...statements, ...inserts]);
      return results.slice(0, statements.length);
    } catch (error) {
      const lostRace = error instanceof D1Error && AUDIT_ID_CONFLICT.test(error.text);
      if (!lostRace) throw error;
      if (attempt >= 2) {
        throw new CliError("another writer kept appending to the audit log; run the command again");
      }
    }
  }
}

/** The chained INSERTs of `actions` after `head`, or after the current head (read now). */
export async function chainedAuditInserts(
  target: D1Target,
  actions: CliAuditAction[],
  head?: ChainHead,
): Promise<string[]> {
  const osUser = safeUserName();
  const contents: AuditRowContent[] = actions.map((action) => ({
    id: 0, // assigned by chainAfterHead
    at: action.at,
    actor_type: "cli",
    actor_id: null,
    action: action.action,
    target: action.target,
    outcome: action.outcome ?? "success",
    ip: null,
    user_agent: "parley-admin",
    details: JSON.stringify({ ...action.details, via: "admin-cli", osUser }),
    department: null,
  }));
  const rows = await chainAfterHead(head ?? (await readChainHead(target)), contents, Date.now());
  return rows.map(auditRowSql);
}

/** The INSERT of one chained row, as SQL literals (scripts run SQL files, not bindings). */
export function auditRowSql(row: AuditRow): string {
  return auditRowsSql([row]);
}

/** One INSERT of several chained rows (keep it to a few hundred: SQLite's VALUES limit). */
export function auditRowsSql(rows: readonly AuditRow[]): string {
  const tuples = rows.map((row) => `(${auditRowValues(row).map(sqlValue).join(", ")})`);
  return `INSERT INTO audit_log (${AUDIT_COLUMN_LIST}) VALUES ${tuples.join(",\n")}`;
}

/**
 * Result columns with the chain head, to add to the SELECT of a command's checks (every
 * wrangler run costs seconds); `chainHeadOf` reads them back from the row.
 */
export const CHAIN_HEAD_COLUMNS = `
  (SELECT json_object('id', id, 'hash', hash) FROM audit_log ORDER BY id DESC LIMIT 1)
    AS chain_head,
  (SELECT json_object('id', id, 'hash', hash) FROM audit_log WHERE hash IS NOT NULL
   ORDER BY id DESC LIMIT 1) AS chain_last`;

/** The head and the newest chained row, from a row that selected CHAIN_HEAD_COLUMNS. */
export function chainHeadOf(row: Row | undefined): ChainHead {
  const parse = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : null);
  return { head: parse(row?.chain_head), lastChained: parse(row?.chain_last) };
}

/** The head and the newest chained row, in one query. */
export async function readChainHead(target: D1Target): Promise<ChainHead> {
  const [row] = await d1Query(target, `SELECT ${CHAIN_HEAD_COLUMNS}`);
  return chainHeadOf(row);
}

/** Walks the whole chain, `pageSize` rows per query; stops at the first problem. */
export async function verifyAuditChainVia(
  target: D1Target,
  pageSize = 5000,
): Promise<AuditChainResult> {
  return verifyAuditChain(
    {
      async latestCheckpoint() {
        const [row] = await d1Query(
          target,
          `SELECT ${AUDIT_COLUMN_LIST} FROM audit_log WHERE action = ${sqlValue(CHECKPOINT_ACTION)}
           ORDER BY id DESC LIMIT 1`,
        );
        return (row as AuditRow | undefined) ?? null;
      },
      async page(afterId, limit) {
        return (await d1Query(
          target,
          `SELECT ${AUDIT_COLUMN_LIST} FROM audit_log WHERE id > ${sqlValue(afterId)} ORDER BY id
           LIMIT ${sqlValue(limit)}`,
        )) as unknown as AuditRow[];
      },
    },
    pageSize,
  );
}

function safeUserName(): string | null {
  try {
    return userInfo().username;
  } catch {
    return null; // no passwd entry for this uid (some containers)
  }
}
