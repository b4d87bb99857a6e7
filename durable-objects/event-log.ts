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

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
      from_role TEXT NOT NULL, from_id TEXT, from_name TEXT, text TEXT,
      client_id TEXT, reason TEXT, flushed INTEGER NOT NULL DEFAULT 0, form TEXT)`);
    // Objects created before secure forms existed get the column.
    addMissingColumns(sql, "events", { form: "TEXT" });
    // A client's retry of the same message (same clientId) must not be stored twice.
    sql.exec(`CREATE UNIQUE INDEX IF NOT EXISTS events_client
      ON events (from_id, client_id) WHERE client_id IS NOT NULL`);
    sql.exec("CREATE INDEX IF NOT EXISTS events_unflushed ON events (seq) WHERE flushed = 0");
    this.#lastSeq =
      sql.exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM events").one().seq ?? 0;
  }

  /** The highest stored seq (0 when empty). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Appends an event with the next seq and returns it as stored. */
  append(event: NewEvent, at = Date.now()): ChatEvent {
    const seq = this.#lastSeq + 1;
    this.#sql.exec(
      `INSERT INTO events (seq, at, kind, from_role, from_id, from_name, text, client_id, reason,
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
    this.#lastSeq = seq;
    return toEvent(this.#sql.exec<EventRow>("SELECT * FROM events WHERE seq = ?", seq).one());
  }

  /** The seq of a message already stored from this sender with this clientId, if any. */
  findByClientId(fromId: string, clientId: string): number | null {
    const rows = this.#sql
      .exec<{ seq: number }>(
        "SELECT seq FROM events WHERE from_id = ? AND client_id = ?",
        fromId,
        clientId,
      )
      .toArray();
    return rows[0]?.seq ?? null;
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
      .exec<EventRow>("SELECT * FROM events WHERE flushed = 0 ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map(toEvent);
  }

  /** Marks events up to and including `seq` as written to D1. */
  markFlushed(throughSeq: number): void {
    this.#sql.exec("UPDATE events SET flushed = 1 WHERE flushed = 0 AND seq <= ?", throughSeq);
  }

  /** True when some events are not yet in D1. */
  hasUnflushed(): boolean {
    return this.#sql.exec("SELECT 1 FROM events WHERE flushed = 0 LIMIT 1").toArray().length > 0;
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
