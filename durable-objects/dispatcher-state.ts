/**
 * The Dispatcher's durable state in SQLite: agents' presence and load, the waiting queue
 * with its offers, and assignments. Pure storage access; policy lives in dispatcher.ts.
 */
import type { AgentStatus, VisitorSummary } from "../src/protocol/dispatcher-frames.ts";
import { addMissingColumns } from "./sql-columns.ts";

export interface AgentState {
  id: string;
  name: string;
  departments: string[];
  capacity: number;
  status: AgentStatus;
  lastAssignedAt: number;
}

export interface QueueEntry {
  chatId: string;
  department: string;
  visitor: VisitorSummary;
  createdAt: number;
  offeredTo: string | null;
  offerExpiresAt: number | null;
  /** Agents who refused (never offered again) or let the offer expire (offered again last). */
  refusedBy: string[];
  expiredFor: string[];
  notifiedPosition: number | null;
  /** When the chat entered its current department's queue (overflow counts from here). */
  enteredAt: number;
  /** Departments the chat overflowed from: it never overflows into one of them again. */
  overflowedFrom: string[];
  /**
   * A transfer in progress: the owner handing the chat over (who stays its owner until
   * someone accepts), and the agent it is offered to when it went to one agent.
   */
  transferFrom: string | null;
  transferTo: string | null;
  /** Offered first to this agent (who invited the visitor), then routed as usual. */
  preferredAgent: string | null;
}

interface AgentRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  departments: string;
  capacity: number;
  status: string;
  last_assigned_at: number;
}

interface QueueRow extends Record<string, SqlStorageValue> {
  chat_id: string;
  department: string;
  visitor: string;
  created_at: number;
  offered_to: string | null;
  offer_expires_at: number | null;
  refused_by: string;
  expired_for: string;
  notified_position: number | null;
  entered_at: number | null;
  overflowed_from: string;
  transfer_from: string | null;
  transfer_to: string | null;
  preferred_agent: string | null;
}

export class DispatcherState {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS agents (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, departments TEXT NOT NULL, capacity INTEGER NOT NULL,
      status TEXT NOT NULL, last_assigned_at INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS queue (
      chat_id TEXT PRIMARY KEY, department TEXT NOT NULL, visitor TEXT NOT NULL,
      created_at INTEGER NOT NULL, offered_to TEXT, offer_expires_at INTEGER,
      refused_by TEXT NOT NULL DEFAULT '[]', expired_for TEXT NOT NULL DEFAULT '[]',
      notified_position INTEGER)`);
    addMissingColumns(sql, "queue", {
      entered_at: "INTEGER",
      overflowed_from: "TEXT NOT NULL DEFAULT '[]'",
      transfer_from: "TEXT",
      transfer_to: "TEXT",
      preferred_agent: "TEXT",
    });
    sql.exec(`CREATE TABLE IF NOT EXISTS assignments (
      chat_id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, assigned_at INTEGER NOT NULL)`);
  }

  // ── Agents ──

  upsertAgent(agent: Omit<AgentState, "status" | "lastAssignedAt">): AgentState {
    this.#sql.exec(
      `INSERT INTO agents (id, name, departments, capacity, status) VALUES (?, ?, ?, ?, 'online')
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, departments = excluded.departments,
         capacity = excluded.capacity`,
      agent.id,
      agent.name,
      JSON.stringify(agent.departments),
      agent.capacity,
    );
    return this.agent(agent.id) as AgentState;
  }

  /** Updates an agent's departments; answers whether they changed. */
  setDepartments(id: string, departments: readonly string[]): boolean {
    const current = this.agent(id);
    const next = [...departments].sort();
    if (!current || JSON.stringify([...current.departments].sort()) === JSON.stringify(next)) {
      return false;
    }
    this.#sql.exec("UPDATE agents SET departments = ? WHERE id = ?", JSON.stringify(next), id);
    return true;
  }

  agent(id: string): AgentState | null {
    const row = this.#sql.exec<AgentRow>("SELECT * FROM agents WHERE id = ?", id).toArray()[0];
    return row ? toAgent(row) : null;
  }

  agents(): AgentState[] {
    return this.#sql.exec<AgentRow>("SELECT * FROM agents").toArray().map(toAgent);
  }

  /** Updates an agent's capacity; answers whether it changed. */
  setCapacity(agentId: string, capacity: number): boolean {
    const cursor = this.#sql.exec(
      "UPDATE agents SET capacity = ? WHERE id = ? AND capacity != ?",
      capacity,
      agentId,
      capacity,
    );
    return cursor.rowsWritten > 0;
  }

  setStatus(id: string, status: AgentStatus): void {
    this.#sql.exec("UPDATE agents SET status = ? WHERE id = ?", status, id);
  }

  // ── Queue ──

  enqueue(
    entry: Pick<QueueEntry, "chatId" | "department" | "visitor" | "createdAt"> &
      Partial<
        Pick<
          QueueEntry,
          "enteredAt" | "transferFrom" | "transferTo" | "refusedBy" | "preferredAgent"
        >
      >,
  ): void {
    this.#sql.exec(
      `INSERT OR IGNORE INTO queue (chat_id, department, visitor, created_at, entered_at,
         transfer_from, transfer_to, refused_by, preferred_agent)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      entry.chatId,
      entry.department,
      JSON.stringify(entry.visitor),
      entry.createdAt,
      entry.enteredAt ?? entry.createdAt,
      entry.transferFrom ?? null,
      entry.transferTo ?? null,
      JSON.stringify(entry.refusedBy ?? []),
      entry.preferredAgent ?? null,
    );
  }

  /**
   * Moves a waiting chat to another department's queue (overflow). The visitor summary names
   * the new department too: offers and queue lists show agents where the chat waits now.
   */
  moveToDepartment(entry: QueueEntry, department: string, at: number): void {
    this.#sql.exec(
      `UPDATE queue SET department = ?, visitor = ?, entered_at = ?, overflowed_from = ?,
         offered_to = NULL, offer_expires_at = NULL WHERE chat_id = ?`,
      department,
      JSON.stringify({ ...entry.visitor, department }),
      at,
      JSON.stringify([...new Set([...entry.overflowedFrom, entry.department])]),
      entry.chatId,
    );
  }

  /** Ends the transfer of a chat whose owner is gone: it waits like any other chat. */
  clearTransfer(chatId: string): void {
    this.#sql.exec(
      "UPDATE queue SET transfer_from = NULL, transfer_to = NULL WHERE chat_id = ?",
      chatId,
    );
  }

  queued(chatId: string): QueueEntry | null {
    const row = this.#sql
      .exec<QueueRow>("SELECT * FROM queue WHERE chat_id = ?", chatId)
      .toArray()[0];
    return row ? toQueueEntry(row) : null;
  }

  /** The whole queue, oldest first. */
  queue(): QueueEntry[] {
    return this.#sql
      .exec<QueueRow>("SELECT * FROM queue ORDER BY created_at, chat_id")
      .toArray()
      .map(toQueueEntry);
  }

  /**
   * 1-based positions of the waiting chats within their department's queue, in `ordered`
   * order (default: oldest first). Chats being transferred are not waiting (their visitor is
   * chatting), so they hold no position.
   */
  positions(ordered: readonly QueueEntry[] = this.queue()): Map<string, number> {
    const counts = new Map<string, number>();
    const positions = new Map<string, number>();
    for (const entry of ordered) {
      if (entry.transferFrom) continue;
      const position = (counts.get(entry.department) ?? 0) + 1;
      counts.set(entry.department, position);
      positions.set(entry.chatId, position);
    }
    return positions;
  }

  dequeue(chatId: string): void {
    this.#sql.exec("DELETE FROM queue WHERE chat_id = ?", chatId);
  }

  setOffer(chatId: string, agentId: string | null, expiresAt: number | null): void {
    this.#sql.exec(
      "UPDATE queue SET offered_to = ?, offer_expires_at = ? WHERE chat_id = ?",
      agentId,
      expiresAt,
      chatId,
    );
  }

  saveDeclines(entry: QueueEntry): void {
    this.#sql.exec(
      "UPDATE queue SET refused_by = ?, expired_for = ? WHERE chat_id = ?",
      JSON.stringify(entry.refusedBy),
      JSON.stringify(entry.expiredFor),
      entry.chatId,
    );
  }

  setNotifiedPosition(chatId: string, position: number): void {
    this.#sql.exec("UPDATE queue SET notified_position = ? WHERE chat_id = ?", position, chatId);
  }

  /** The earliest offer expiry, or null. */
  nextOfferExpiry(): number | null {
    return this.#sql
      .exec<{ at: number | null }>("SELECT min(offer_expires_at) AS at FROM queue")
      .one().at;
  }

  // ── Assignments ──

  assign(chatId: string, agentId: string, at: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO assignments (chat_id, agent_id, assigned_at) VALUES (?, ?, ?)",
      chatId,
      agentId,
      at,
    );
    this.#sql.exec("UPDATE agents SET last_assigned_at = ? WHERE id = ?", at, agentId);
  }

  /** Removes an assignment; returns the agent it belonged to. */
  unassign(chatId: string): string | null {
    const agentId = this.assignee(chatId);
    this.#sql.exec("DELETE FROM assignments WHERE chat_id = ?", chatId);
    return agentId;
  }

  /** The agent a chat is assigned to, or null. */
  assignee(chatId: string): string | null {
    const row = this.#sql
      .exec<{ agent_id: string }>("SELECT agent_id FROM assignments WHERE chat_id = ?", chatId)
      .toArray()[0];
    return row?.agent_id ?? null;
  }

  setLastAssignedAt(agentId: string, at: number): void {
    this.#sql.exec("UPDATE agents SET last_assigned_at = ? WHERE id = ?", at, agentId);
  }

  /** Every assignment of an agent. */
  assignedTo(agentId: string): string[] {
    return this.#sql
      .exec<{ chat_id: string }>("SELECT chat_id FROM assignments WHERE agent_id = ?", agentId)
      .toArray()
      .map((row) => row.chat_id);
  }

  activeChats(agentId: string): number {
    return this.#sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM assignments WHERE agent_id = ?", agentId)
      .one().n;
  }

  pendingOffers(agentId: string): number {
    return this.#sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM queue WHERE offered_to = ?", agentId)
      .one().n;
  }
}

function toAgent(row: AgentRow): AgentState {
  return {
    id: row.id,
    name: row.name,
    departments: JSON.parse(row.departments) as string[],
    capacity: row.capacity,
    status: row.status as AgentStatus,
    lastAssignedAt: row.last_assigned_at,
  };
}

function toQueueEntry(row: QueueRow): QueueEntry {
  return {
    chatId: row.chat_id,
    department: row.department,
    visitor: JSON.parse(row.visitor) as VisitorSummary,
    createdAt: row.created_at,
    offeredTo: row.offered_to,
    offerExpiresAt: row.offer_expires_at,
    refusedBy: JSON.parse(row.refused_by) as string[],
    expiredFor: JSON.parse(row.expired_for) as string[],
    notifiedPosition: row.notified_position,
    enteredAt: row.entered_at ?? row.created_at,
    overflowedFrom: JSON.parse(row.overflowed_from) as string[],
    transferFrom: row.transfer_from,
    transferTo: row.transfer_to,
    preferredAgent: row.preferred_agent,
  };
}
