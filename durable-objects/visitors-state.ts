/**
 * The Visitors object's SQLite storage: who is on the site now (one row per visitor, shared
 * by their tabs) and the invitations agents sent them. Nothing per visitor is kept in memory,
 * so a hibernated object with a thousand idle sockets holds only what the runtime keeps.
 */
import { PAGE_VIEWS_PER_MINUTE } from "../src/protocol/visitor-frames.ts";
import { SlidingWindow, type SlidingWindowState } from "../src/security/token-bucket.ts";

const MINUTE_MS = 60_000;

/** A visitor on the site, as stored. */
export interface VisitorRecord {
  visitorId: string;
  pageUrl: string | null;
  pageTitle: string | null;
  referrer: string | null;
  country: string | null;
  connectedAt: number;
  lastPageAt: number | null;
  visits: number;
}

/** A pending invitation, as stored. */
export interface InvitationRecord {
  id: string;
  visitorId: string;
  agentId: string;
  agentName: string;
  message: string;
  expiresAt: number;
  /** The visitor clicked it and is filling in the pre-chat form. */
  accepted: boolean;
}

interface VisitorRow extends Record<string, SqlStorageValue> {
  visitor_id: string;
  page_url: string | null;
  page_title: string | null;
  referrer: string | null;
  country: string | null;
  connected_at: number;
  last_page_at: number | null;
  visits: number;
}

interface InvitationRow extends Record<string, SqlStorageValue> {
  id: string;
  visitor_id: string;
  agent_id: string;
  agent_name: string;
  message: string;
  expires_at: number;
  accepted: number;
}

/** A page view as the frame carries it (already validated and masked). */
export interface PageView {
  url: string;
  title?: string | undefined;
  referrer?: string | undefined;
}

const VISITOR_COLUMNS =
  "visitor_id, page_url, page_title, referrer, country, connected_at, last_page_at, visits";

export class VisitorsState {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    // departed_at: when the visitor's last socket closed (null while one is open). The row
    // stays for a grace period, so a page load (close, then reopen) keeps the visit.
    sql.exec(`CREATE TABLE IF NOT EXISTS visitors (
      visitor_id TEXT PRIMARY KEY, page_url TEXT, page_title TEXT, referrer TEXT, country TEXT,
      connected_at INTEGER NOT NULL, last_page_at INTEGER, visits INTEGER NOT NULL,
      departed_at INTEGER, page_views TEXT)`);
    sql.exec("CREATE INDEX IF NOT EXISTS visitors_departed ON visitors(departed_at)");
    sql.exec(`CREATE TABLE IF NOT EXISTS invitations (
      id TEXT PRIMARY KEY, visitor_id TEXT NOT NULL, agent_id TEXT NOT NULL,
      agent_name TEXT NOT NULL, message TEXT NOT NULL, expires_at INTEGER NOT NULL,
      accepted INTEGER NOT NULL DEFAULT 0)`);
    sql.exec("CREATE INDEX IF NOT EXISTS invitations_visitor ON invitations(visitor_id)");
    sql.exec("CREATE INDEX IF NOT EXISTS invitations_expiry ON invitations(expires_at)");
  }

  // ── Visitors ────────────────────────────────────────────────────────────────

  /** Visitors on the site (departed ones within the grace period included). */
  count(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM visitors").one().n;
  }

  find(visitorId: string): VisitorRecord | null {
    const row = this.#sql
      .exec<VisitorRow>(`SELECT ${VISITOR_COLUMNS} FROM visitors WHERE visitor_id = ?`, visitorId)
      .toArray()[0];
    return row ? toVisitor(row) : null;
  }

  /** A socket of the visitor opened: a new visit, or the same one back from a page load. */
  arrive(visitor: { visitorId: string; country: string | null; visits: number; now: number }) {
    this.#sql.exec(
      `INSERT INTO visitors (visitor_id, country, connected_at, visits) VALUES (?, ?, ?, ?)
       ON CONFLICT (visitor_id) DO UPDATE SET departed_at = NULL, country = excluded.country`,
      visitor.visitorId,
      visitor.country,
      visitor.now,
      visitor.visits,
    );
  }

  /**
   * Records a page view unless the visitor already reported PAGE_VIEWS_PER_MINUTE in the
   * last minute (an exact sliding window, kept in the row so it survives hibernation).
   * Answers whether it was recorded.
   */
  recordPage(visitorId: string, page: PageView, now: number): boolean {
    const row = this.#sql
      .exec<{ page_views: string | null }>(
        "SELECT page_views FROM visitors WHERE visitor_id = ?",
        visitorId,
      )
      .toArray()[0];
    if (!row) return false;
    const state = row.page_views ? (JSON.parse(row.page_views) as SlidingWindowState) : undefined;
    const window = new SlidingWindow(MINUTE_MS, state);
    if (!window.take(PAGE_VIEWS_PER_MINUTE, now).allowed) return false;
    // The referrer of a visit is where it came from: later pages' referrers are the site's own.
    this.#sql.exec(
      `UPDATE visitors SET page_url = ?, page_title = ?, referrer = coalesce(referrer, ?),
         last_page_at = ?, page_views = ? WHERE visitor_id = ?`,
      page.url,
      page.title || null,
      page.referrer ?? null,
      now,
      JSON.stringify(window.toJSON()),
      visitorId,
    );
    return true;
  }

  /** The visitor's last socket closed at `now`. */
  depart(visitorId: string, now: number): void {
    this.#sql.exec(
      "UPDATE visitors SET departed_at = ? WHERE visitor_id = ? AND departed_at IS NULL",
      now,
      visitorId,
    );
  }

  /** Forgets visitors who departed at or before `cutoff`, with their invitations; answers them. */
  forgetDeparted(cutoff: number): { visitorId: string; at: number }[] {
    const gone = this.#sql
      .exec<{ visitor_id: string; departed_at: number }>(
        "SELECT visitor_id, departed_at FROM visitors WHERE departed_at <= ?",
        cutoff,
      )
      .toArray();
    for (const { visitor_id } of gone) {
      this.#sql.exec("DELETE FROM invitations WHERE visitor_id = ?", visitor_id);
      this.#sql.exec("DELETE FROM visitors WHERE visitor_id = ?", visitor_id);
    }
    return gone.map((row) => ({ visitorId: row.visitor_id, at: row.departed_at }));
  }

  /** The earliest departure still waiting out its grace period, or null. */
  firstDeparture(): number | null {
    return this.#sql
      .exec<{ at: number | null }>("SELECT min(departed_at) AS at FROM visitors")
      .one().at;
  }

  /** Visitors stored as connected (no departure recorded). */
  connectedIds(): string[] {
    return this.#sql
      .exec<{ visitor_id: string }>("SELECT visitor_id FROM visitors WHERE departed_at IS NULL")
      .toArray()
      .map((row) => row.visitor_id);
  }

  /** Up to `limit` visitors, the most recently active first. */
  list(limit: number): VisitorRecord[] {
    return this.#sql
      .exec<VisitorRow>(
        `SELECT ${VISITOR_COLUMNS} FROM visitors
         ORDER BY coalesce(last_page_at, connected_at) DESC, visitor_id LIMIT ?`,
        limit,
      )
      .toArray()
      .map(toVisitor);
  }

  // ── Invitations ─────────────────────────────────────────────────────────────

  addInvitation(invitation: InvitationRecord): void {
    this.#sql.exec(
      `INSERT INTO invitations (id, visitor_id, agent_id, agent_name, message, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      invitation.id,
      invitation.visitorId,
      invitation.agentId,
      invitation.agentName,
      invitation.message,
      invitation.expiresAt,
    );
  }

  /** The visitor's invitations that have not expired at `now`. */
  invitationsOf(visitorId: string, now: number): InvitationRecord[] {
    return this.#sql
      .exec<InvitationRow>(
        "SELECT * FROM invitations WHERE visitor_id = ? AND expires_at > ? ORDER BY expires_at",
        visitorId,
        now,
      )
      .toArray()
      .map(toInvitation);
  }

  /** The visitor's live invitation `id`, or null (unknown, another visitor's, or expired). */
  invitation(id: string, visitorId: string, now: number): InvitationRecord | null {
    const row = this.#sql
      .exec<InvitationRow>(
        "SELECT * FROM invitations WHERE id = ? AND visitor_id = ? AND expires_at > ?",
        id,
        visitorId,
        now,
      )
      .toArray()[0];
    return row ? toInvitation(row) : null;
  }

  /** Marks an invitation accepted and holds it until `until`. */
  hold(id: string, until: number): void {
    this.#sql.exec(
      "UPDATE invitations SET accepted = 1, expires_at = max(expires_at, ?) WHERE id = ?",
      until,
      id,
    );
  }

  removeInvitation(id: string): void {
    this.#sql.exec("DELETE FROM invitations WHERE id = ?", id);
  }

  /** Removes the invitations expired at `now`; answers them. */
  expireInvitations(now: number): InvitationRecord[] {
    return this.#sql
      .exec<InvitationRow>("DELETE FROM invitations WHERE expires_at <= ? RETURNING *", now)
      .toArray()
      .map(toInvitation);
  }

  /** When the next invitation expires, or null. */
  firstExpiry(): number | null {
    return this.#sql
      .exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM invitations")
      .one().at;
  }
}

function toVisitor(row: VisitorRow): VisitorRecord {
  return {
    visitorId: row.visitor_id,
    pageUrl: row.page_url,
    pageTitle: row.page_title,
    referrer: row.referrer,
    country: row.country,
    connectedAt: row.connected_at,
    lastPageAt: row.last_page_at,
    visits: row.visits,
  };
}

function toInvitation(row: InvitationRow): InvitationRecord {
  return {
    id: row.id,
    visitorId: row.visitor_id,
    agentId: row.agent_id,
    agentName: row.agent_name,
    message: row.message,
    expiresAt: row.expires_at,
    accepted: row.accepted === 1,
  };
}
