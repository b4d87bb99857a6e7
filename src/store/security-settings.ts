/**
 * Security settings that agents with "manage security settings" may change in D1 — only
 * ever narrower than wrangler.toml: the Worker applies the configured list AND the narrowed
 * one, so a row in this table can never open what configuration keeps closed.
 */

/** The allowlists an admin may narrow. */
export type AllowlistKind = "agent" | "mobile";

const KEY: Record<AllowlistKind, string> = {
  agent: "agent_ip_allowlist",
  mobile: "mobile_ip_allowlist",
};

/** The narrowed rules of each allowlist (null: not narrowed). */
export async function readNarrowedAllowlists(
  db: D1Database,
): Promise<Record<AllowlistKind, string[] | null>> {
  const { results } = await db
    .prepare("SELECT key, value FROM security_settings WHERE key IN (?1, ?2)")
    .bind(KEY.agent, KEY.mobile)
    .all<{ key: string; value: string }>();
  const read = (kind: AllowlistKind): string[] | null => {
    const row = results.find((r) => r.key === KEY[kind]);
    if (!row) return null;
    const value: unknown = JSON.parse(row.value);
    // A row that is not a list of strings narrows to nothing: fail closed.
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : [];
  };
  return { agent: read("agent"), mobile: read("mobile") };
}

/** Stores (or, with null, removes) the narrowed rules of one allowlist. */
export async function writeNarrowedAllowlist(
  db: D1Database,
  kind: AllowlistKind,
  rules: string[] | null,
  actorId: string,
  now: number,
): Promise<void> {
  if (rules === null) {
    await db.prepare("DELETE FROM security_settings WHERE key = ?1").bind(KEY[kind]).run();
    return;
  }
  await db
    .prepare(
      `INSERT INTO security_settings (key, value, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_by = excluded.updated_by,
         updated_at = excluded.updated_at`,
    )
    .bind(KEY[kind], JSON.stringify(rules), actorId, now)
    .run();
}
