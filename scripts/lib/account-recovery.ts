/**
 * Account recovery from the admin CLI: unlock a locked account, and issue a one-time
 * password reset token (PCI DSS 8.3.5: the agent, not the administrator, chooses the new
 * password). Only a SHA-256 of the token is stored; the token itself is shown once.
 */

import type { ChainHead } from "../../src/security/audit-chain.ts";
import { hashToken, randomToken } from "../../src/security/tokens.ts";
import { CHAIN_HEAD_COLUMNS, chainHeadOf, d1ExecuteAudited } from "./audit.ts";
import { CliError } from "./cli.ts";
import { type D1Target, d1Query, type Row, sqlValue } from "./d1.ts";

/**
 * Re-enables a disabled agent (e.g. disabled for inactivity); the inactivity clock starts
 * again now, so the next cron run does not disable them at once. Returns the agent id.
 */
export async function enableAgent(target: D1Target, email: string): Promise<string> {
  const { id, head } = await findAgent(target, email);
  const now = Date.now();
  await d1ExecuteAudited(
    target,
    [`UPDATE agents SET disabled_at = NULL, last_login_at = ${now} WHERE id = ${sqlValue(id)}`],
    { at: now, action: "agent.enable", target: id, details: { email: email.trim() } },
    head,
  );
  return id;
}

/** How long a reset token stays valid. */
export const RESET_TOKEN_MINUTES = 30;

/**
 * The agent's id with the audit chain's head (for the command's audited write) and the
 * `extra` SQL columns of agents `a`, all in one query: every wrangler run costs seconds.
 */
async function findAgent(
  target: D1Target,
  email: string,
  extra?: string,
): Promise<{ id: string; head: ChainHead; row: Row }> {
  const columns = ["a.id", ...(extra ? [extra] : []), CHAIN_HEAD_COLUMNS].join(", ");
  const [row] = await d1Query(
    target,
    `SELECT ${columns} FROM agents a WHERE a.email = ${sqlValue(email.trim())}`,
  );
  if (typeof row?.id !== "string") throw new CliError(`no agent with email ${email.trim()}`);
  return { id: row.id, head: chainHeadOf(row), row };
}

/** Clears the account's failure counter and lock. Returns the agent id. */
export async function unlockAgent(target: D1Target, email: string): Promise<string> {
  const { id, head } = await findAgent(target, email);
  const now = Date.now();
  await d1ExecuteAudited(
    target,
    [
      `DELETE FROM login_failures WHERE kind = 'account' AND key = ${sqlValue(email.trim().toLowerCase())}`,
    ],
    { at: now, action: "agent.unlock", target: id, details: { email: email.trim() } },
    head,
  );
  return id;
}

/**
 * Issues a reset token valid for RESET_TOKEN_MINUTES, unless `resetsPerDay` were already
 * issued for the agent in the last 24 hours. Returns the token (never stored or logged).
 */
export async function issuePasswordReset(
  target: D1Target,
  email: string,
  resetsPerDay: number,
): Promise<{ agentId: string; token: string; expiresAt: number }> {
  const now = Date.now();
  const { id, head, row } = await findAgent(
    target,
    email,
    `(SELECT count(*) FROM password_tokens
      WHERE agent_id = a.id AND created_at > ${now - 86_400_000}) AS recent`,
  );
  if (Number(row.recent ?? 0) >= resetsPerDay) {
    throw new CliError(
      `${resetsPerDay} password resets were already issued for ${email.trim()} in the last 24 hours (PASSWORD_RESETS_PER_DAY)`,
    );
  }
  const token = randomToken();
  const expiresAt = now + RESET_TOKEN_MINUTES * 60_000;
  await d1ExecuteAudited(
    target,
    [
      // Earlier unused tokens of the agent stop working: only the newest link is valid.
      `UPDATE password_tokens SET used_at = ${now} WHERE agent_id = ${sqlValue(id)} AND used_at IS NULL`,
      `INSERT INTO password_tokens (token_hash, agent_id, purpose, created_at, expires_at)
       VALUES (${sqlValue(await hashToken(token))}, ${sqlValue(id)}, 'reset', ${now}, ${expiresAt})`,
    ],
    {
      at: now,
      action: "auth.password_reset_issue",
      target: id,
      details: { email: email.trim(), expiresAt },
    },
    head,
  );
  return { agentId: id, token, expiresAt };
}
