/** The facts a ChatSession keeps about its chat, in a one-row SQLite table. */
import type { ChatStatus } from "../src/protocol/chat-frames.ts";

export interface ChatMetaInit {
  chatId: string;
  visitorId: string;
  /** From the pre-chat form; shown as the sender name of the visitor's events. */
  visitorName: string | null;
  department: string;
  queuePosition: number | null;
}

interface MetaRow extends Record<string, SqlStorageValue> {
  chat_id: string;
  visitor_id: string;
  visitor_name: string | null;
  department: string;
  queue_position: number | null;
  ended_at: number | null;
}

export class ChatMeta {
  readonly #sql: SqlStorage;
  #row: MetaRow | null;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (
      id INTEGER PRIMARY KEY CHECK (id = 1), chat_id TEXT NOT NULL, visitor_id TEXT NOT NULL,
      visitor_name TEXT, department TEXT NOT NULL, queue_position INTEGER, ended_at INTEGER)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS participants (
      id TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT, joined_at INTEGER NOT NULL)`);
    this.#row = this.#read();
  }

  /** Records the chat's identity once; later calls change nothing. */
  init(meta: ChatMetaInit): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO meta (id, chat_id, visitor_id, visitor_name, department, queue_position)
       VALUES (1, ?, ?, ?, ?, ?)`,
      meta.chatId,
      meta.visitorId,
      meta.visitorName,
      meta.department,
      meta.queuePosition,
    );
    this.#row = this.#read();
  }

  get exists(): boolean {
    return this.#row !== null;
  }
  get chatId(): string | null {
    return this.#row?.chat_id ?? null;
  }
  get visitorId(): string | null {
    return this.#row?.visitor_id ?? null;
  }
  get department(): string | null {
    return this.#row?.department ?? null;
  }
  get visitorName(): string | null {
    return this.#row?.visitor_name ?? null;
  }
  get queuePosition(): number | null {
    return this.#row?.queue_position ?? null;
  }
  get endedAt(): number | null {
    return this.#row?.ended_at ?? null;
  }
  get ended(): boolean {
    return this.endedAt !== null;
  }
  get status(): ChatStatus {
    return this.ended ? "ended" : "open";
  }

  /** Stores the visitor's queue position (null once an agent has taken the chat). */
  setQueuePosition(position: number | null): void {
    this.#sql.exec("UPDATE meta SET queue_position = ? WHERE id = 1", position);
    this.#row = this.#read();
  }

  /** The department the chat now belongs to (overflow and transfers move it). */
  setDepartment(department: string): void {
    this.#sql.exec("UPDATE meta SET department = ? WHERE id = 1", department);
    this.#row = this.#read();
  }

  /** Marks the chat ended; the first end time wins. */
  markEnded(at: number): void {
    this.#sql.exec("UPDATE meta SET ended_at = coalesce(ended_at, ?) WHERE id = 1", at);
    this.#row = this.#read();
  }

  /** Forgets the chat (it never started): the object then answers 404 like an unknown chat. */
  clear(): void {
    this.#sql.exec("DELETE FROM meta");
    this.#sql.exec("DELETE FROM participants");
    this.#row = null;
  }

  /** Records a participant; true the first time this participant joins. */
  addParticipant(p: { id: string; role: string; name: string | null }): boolean {
    const before = this.#sql.exec("SELECT 1 FROM participants WHERE id = ?", p.id).toArray();
    if (before.length > 0) return false;
    this.#sql.exec(
      "INSERT INTO participants (id, role, name, joined_at) VALUES (?, ?, ?, ?)",
      p.id,
      p.role,
      p.name,
      Date.now(),
    );
    return true;
  }

  /** Forgets a participant who left: coming back (joining again) announces them again. */
  removeParticipant(id: string): void {
    this.#sql.exec("DELETE FROM participants WHERE id = ?", id);
  }

  #read(): MetaRow | null {
    return this.#sql.exec<MetaRow>("SELECT * FROM meta WHERE id = 1").toArray()[0] ?? null;
  }
}
