/**
 * The chats whose events D1 has refused, as their ChatSessions last reported them: what
 * `/healthz` sums up as `chatBacklog`. Each ChatSession keeps its own events safely and
 * retries; this table only makes an outage visible in one place. A ChatSession reports when
 * a flush fails and again (with 0) once D1 has everything, so nothing is written while D1 is
 * healthy.
 */

/** The backlog across chats: how many chats wait for D1, holding how many events. */
export interface ChatBacklog {
  chats: number;
  events: number;
  /** When the oldest still-failing chat first failed (ms), or null with no backlog. */
  oldestSince: number | null;
}

export class FlushBacklog {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS flush_backlog (
      chat_id TEXT PRIMARY KEY, events INTEGER NOT NULL, since INTEGER NOT NULL)`);
  }

  /** Records a chat's unflushed events (0 removes it); `since` is kept from the first report. */
  report(chatId: string, events: number, at: number): void {
    if (events <= 0) {
      this.#sql.exec("DELETE FROM flush_backlog WHERE chat_id = ?", chatId);
      return;
    }
    this.#sql.exec(
      `INSERT INTO flush_backlog (chat_id, events, since) VALUES (?, ?, ?)
       ON CONFLICT (chat_id) DO UPDATE SET events = excluded.events`,
      chatId,
      events,
      at,
    );
  }

  /** The sums `/healthz` answers. */
  total(): ChatBacklog {
    const row = this.#sql
      .exec<{ chats: number; events: number | null; since: number | null }>(
        "SELECT count(*) AS chats, sum(events) AS events, min(since) AS since FROM flush_backlog",
      )
      .one();
    return { chats: row.chats, events: row.events ?? 0, oldestSince: row.since };
  }
}
