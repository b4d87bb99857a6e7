/**
 * D1 access to the visitor ban list (table `bans`, migration 0006). A ban applies while
 * `expires_at` is NULL (until lifted) or in the future; an expired ban stays listed (flagged
 * inactive) until it is lifted, and never matches.
 */
import type { Ban, BanKind } from "../protocol/http.ts";
import { type IpRule, IpRuleError, matchesIpRules, parseIpRule } from "../security/ip-rules.ts";

/** Most bans one list returns: active ones first, so they are never cut off by old ones. */
export const MAX_LISTED_BANS = 1000;

interface BanRow {
  id: string;
  kind: BanKind;
  value: string;
  reason: string;
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
}

export interface NewBan {
  id: string;
  kind: BanKind;
  /** Canonical value (`createBanRequest` canonicalizes it). */
  value: string;
  reason: string;
  createdBy: string | null;
  now: number;
  expiresAt: number | null;
}

const ACTIVE = "(expires_at IS NULL OR expires_at > ?1)";

function toBan(row: BanRow, now: number): Ban {
  return {
    id: row.id,
    kind: row.kind,
    value: row.value,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    active: row.expires_at === null || row.expires_at > now,
  };
}

/** Lists bans: active first, then expired; newest first within each. */
export async function listBans(db: D1Database, now: number): Promise<Ban[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM bans ORDER BY ${ACTIVE} DESC, created_at DESC, id LIMIT ${MAX_LISTED_BANS}`,
    )
    .bind(now)
    .all<BanRow>();
  return results.map((row) => toBan(row, now));
}

/** Reads one ban. */
export async function findBan(db: D1Database, id: string, now: number): Promise<Ban | null> {
  const row = await db.prepare("SELECT * FROM bans WHERE id = ?1").bind(id).first<BanRow>();
  return row ? toBan(row, now) : null;
}

/** The active ban with exactly this kind and value, if any (a second one would be noise). */
export async function findActiveBan(
  db: D1Database,
  kind: BanKind,
  value: string,
  now: number,
): Promise<Ban | null> {
  const row = await db
    .prepare(`SELECT * FROM bans WHERE kind = ?2 AND value = ?3 AND ${ACTIVE} LIMIT 1`)
    .bind(now, kind, value)
    .first<BanRow>();
  return row ? toBan(row, now) : null;
}

/** Stores a ban. */
export async function createBan(db: D1Database, ban: NewBan): Promise<void> {
  await db
    .prepare(
      `INSERT INTO bans (id, kind, value, reason, created_by, created_at, expires_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
    )
    .bind(ban.id, ban.kind, ban.value, ban.reason, ban.createdBy, ban.now, ban.expiresAt)
    .run();
}

/** Lifts (deletes) a ban; true when it existed. The audit log keeps its history. */
export async function deleteBan(db: D1Database, id: string): Promise<boolean> {
  const { meta } = await db.prepare("DELETE FROM bans WHERE id = ?1").bind(id).run();
  return meta.changes > 0;
}

/** What a request is known by: its client IP and any visitor ids it carries. */
export interface BanSubject {
  ip: string | null;
  visitorIds: readonly string[];
}

/** The ban that matched, for the audit row (never shown to the visitor). */
export interface BanMatch {
  id: string;
  kind: BanKind;
}

/**
 * The first active ban matching `subject`, or null. Visitor ids are looked up by index; IP
 * bans are matched in code (ranges cannot be indexed in SQLite), with the allowlists'
 * parser, so a range bans exactly what an allowlist with the same text would allow.
 */
export async function matchingBan(
  db: D1Database,
  subject: BanSubject,
  now: number,
): Promise<BanMatch | null> {
  const ids = [...new Set(subject.visitorIds)].slice(0, 10);
  if (!subject.ip && ids.length === 0) return null;
  const visitorClause = ids.length
    ? ` OR (kind = 'visitor' AND value IN (${ids.map((_, i) => `?${i + 2}`).join(", ")}))`
    : "";
  const ipClause = subject.ip ? "kind = 'ip'" : "0";
  const { results } = await db
    .prepare(
      `SELECT id, kind, value FROM bans WHERE ${ACTIVE} AND (${ipClause}${visitorClause})
       ORDER BY kind DESC, created_at`,
    )
    .bind(now, ...ids)
    .all<Pick<BanRow, "id" | "kind" | "value">>();
  for (const row of results) {
    if (row.kind === "visitor" || (subject.ip && ipMatches(subject.ip, row))) {
      return { id: row.id, kind: row.kind };
    }
  }
  return null;
}

/** True when `ip` is within a stored IP ban; a value that no longer parses matches nothing. */
function ipMatches(ip: string, row: Pick<BanRow, "id" | "value">): boolean {
  let rule: IpRule;
  try {
    rule = parseIpRule(row.value);
  } catch (error) {
    if (!(error instanceof IpRuleError)) throw error;
    console.error(`[parley] ban ${row.id}: the stored IP value does not parse; ignored`);
    return false;
  }
  return matchesIpRules(ip, [rule]);
}
