/**
 * A chat's ordered event log in Durable Object SQLite storage. `seq` is the row's primary
 * key, so order and uniqueness hold across restarts; nothing is kept in memory but the
 * last seq, and replay streams rows through a cursor instead of loading the history.
 */
import type { ChatEvent, ChatEventKind, EventSender } from "../src/protocol/chat-frames.ts";
import type { SecureFormField } from "../src/security/secure-form.ts";
import { addMissingColumns } from "./sql-columns.ts";

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  at: number;
  kind: string;
  from_role: string;
  from_id: string | null;
  from_name: string | null;
  text: string | null;
  client_id: string | null;
  reason: string | null;
  form: string | null;
}

export interface NewEvent {
  kind: ChatEventKind;
  from: EventSender;
  text?: string;
  clientId?: string;
  reason?: string;
  form?: ChatEvent["form"];
}

/** A secure form as the log knows it: its fields, and whether it was submitted. */
export interface LoggedForm {
  fields: SecureFormField[];
  submitted: boolean;
}

export class EventLog {
  readonly #sql: SqlStorage;
  #lastSeq: number;
  #flushFailingSince: number | null;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
      from_role TEXT NOT NULL, from_id TEXT, from_name TEXT, text TEXT,
      client_id TEXT, reason TEXT, form TEXT)`);
    // Objects created before secure forms existed get the column.
    addMissingColumns(sql, "events", { form: "TEXT" });
    // A client's retry of the same message (same clientId) must not be stored twice.
    sql.exec(`CREATE UNIQUE INDEX IF NOT EXISTS events_client
      ON events (from_id, client_id) WHERE client_id IS NOT NULL`);
    this.#createWatermark();
    this.#lastSeq =
      sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
    this.#flushFailingSince = sql
      .exec<{ since: number | null }>("SELECT flush_failing_since AS since FROM event_log_state")
      .one().since;
  }

  /**
   * What is in D1 is one watermark (every seq up to it), not a flag per row: marking a batch
   * flushed is then one small write instead of an update of each row and of an index, and
   * finding the rest is a primary-key range.
   */
  #createWatermark(): void {
    const sql = this.#sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS event_log_state (
      id INTEGER PRIMARY KEY CHECK (id = 1), flushed_through INTEGER NOT NULL,
      flush_failing_since INTEGER)`);
    if (sql.exec("SELECT 1 FROM event_log_state").toArray().length > 0) return;
    // Objects from before the watermark kept a `flushed` flag per row: start after the
    // last flushed event that has no unflushed one before it (flushes went in seq order).
    const legacy = sql
      .exec<{ name: string }>("PRAGMA table_info(events)")
      .toArray()
      .some((column) => column.name === "flushed");
    const through = legacy
      ? sql
          .exec<{ through: number | null }>(
            `SELECT coalesce((SELECT min(seq) - 1 FROM events WHERE flushed = 0),
               (SELECT max(seq) FROM events)) AS through`,
          )
          .one().through
      : null;
    sql.exec("DROP INDEX IF EXISTS events_unflushed");
    sql.exec("INSERT INTO event_log_state (id, flushed_through) VALUES (1, ?)", through ?? 0);
  }

  /** The highest stored seq (0 when empty). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Appends an event with the next seq and returns it as stored. */
  append(event: NewEvent, at = Date.now()): ChatEvent {
    const stored = this.#insert(event, at);
    if (!stored) throw new Error(`event ${event.clientId} from ${event.from.id} is stored already`);
    return stored;
  }

  /**
   * Appends a message unless its sender already stored one with this clientId (a resend
   * after a lost ack): returns the new event, or the seq of the earlier one. One statement
   * does the check and the write, since this runs for every message.
   */
  appendOnce(event: NewEvent & { clientId: string }, at = Date.now()): ChatEvent | number {
    return (
      this.#insert(event, at) ??
      this.#sql
        .exec<{ seq: number }>(
          "SELECT seq FROM events WHERE from_id = ? AND client_id = ?",
          event.from.id,
          event.clientId,
        )
        .one().seq
    );
  }

  /** Inserts `event` as the next seq; null when its (sender, clientId) is already stored. */
  #insert(event: NewEvent, at: number): ChatEvent | null {
    const seq = this.#lastSeq + 1;
    const cursor = this.#sql.exec(
      `INSERT OR IGNORE INTO events (seq, at, kind, from_role, from_id, from_name, text, client_id, reason,
         form)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      seq,
      at,
      event.kind,
      event.from.role,
      event.from.id,
      event.from.name,
      event.text ?? null,
      event.clientId ?? null,
      event.reason ?? null,
      event.form ? JSON.stringify(event.form) : null,
    );
    if (cursor.rowsWritten === 0) return null;
    this.#lastSeq = seq;
    // Built from what was written rather than read back: the same shape `toEvent` gives.
    const stored: ChatEvent = {
      seq,
      at,
      kind: event.kind,
      from: { role: event.from.role, id: event.from.id, name: event.from.name },
    };
    if (event.text !== undefined) stored.text = event.text;
    if (event.clientId !== undefined) stored.clientId = event.clientId;
    if (event.reason !== undefined) stored.reason = event.reason;
    if (event.form) stored.form = event.form;
    return stored;
  }

  /** The secure form `requestId` (fields from its request event), or null when unknown. */
  findForm(requestId: string): LoggedForm | null {
    const rows = this.#sql
      .exec<EventRow>(
        `SELECT * FROM events WHERE kind IN ('secure_form.requested', 'secure_form.submitted')
           AND json_extract(form, '$.requestId') = ? ORDER BY seq`,
        requestId,
      )
      .toArray()
      .map(toEvent);
    const fields = rows.find((e) => e.kind === "secure_form.requested")?.form?.fields;
    if (!fields) return null;
    return { fields, submitted: rows.some((e) => e.kind === "secure_form.submitted") };
  }

  /** Every event after `afterSeq`, in order, streamed from storage. */
  *after(afterSeq: number): Generator<ChatEvent> {
    for (const row of this.#sql.exec<EventRow>(
      "SELECT * FROM events WHERE seq > ? ORDER BY seq",
      afterSeq,
    )) {
      yield toEvent(row);
    }
  }

  /** Up to `limit` events not yet written to D1, in order. */
  unflushed(limit: number): ChatEvent[] {
    return this.#sql
      .exec<EventRow>(
        `SELECT * FROM events WHERE seq > (SELECT flushed_through FROM event_log_state)
         ORDER BY seq LIMIT ?`,
        limit,
      )
      .toArray()
      .map(toEvent);
  }

  /** Marks events up to and including `seq` as written to D1. */
  markFlushed(throughSeq: number): void {
    this.#sql.exec(
      "UPDATE event_log_state SET flushed_through = max(flushed_through, ?)",
      throughSeq,
    );
  }

  /** Since when D1 refuses this log's events (ms), or null while the copy keeps up. */
  get flushFailingSince(): number | null {
    return this.#flushFailingSince;
  }

  /** Records that flushing to D1 began failing (`since`), or works again (null). */
  setFlushFailing(since: number | null): void {
    this.#sql.exec("UPDATE event_log_state SET flush_failing_since = ?", since);
    this.#flushFailingSince = since;
  }

  /** Forgets every event (the chat was erased): D1's copy, if any, is the only one left. */
  clear(): void {
    this.#sql.exec("DELETE FROM events");
    this.#sql.exec("UPDATE event_log_state SET flushed_through = 0, flush_failing_since = NULL");
    this.#lastSeq = 0;
    this.#flushFailingSince = null;
  }

  /** How many events are not yet in D1. */
  unflushedCount(): number {
    return this.#sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM events
         WHERE seq > (SELECT flushed_through FROM event_log_state)`,
      )
      .one().n;
  }
}

function toEvent(row: EventRow): ChatEvent {
  const event: ChatEvent = {
    seq: row.seq,
    at: row.at,
    kind: row.kind as ChatEventKind,
    from: { role: row.from_role as EventSender["role"], id: row.from_id, name: row.from_name },
  };
  if (row.text !== null) event.text = row.text;
  if (row.client_id !== null) event.clientId = row.client_id;
  if (row.reason !== null) event.reason = row.reason;
  if (row.form !== null) event.form = JSON.parse(row.form) as ChatEvent["form"];
  return event;
}
