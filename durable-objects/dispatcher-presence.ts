/**
 * The Dispatcher's durable state about agents coming and going: departures (an agent's last
 * console socket closed; their chats are requeued after the reconnect grace period) and
 * invitations to join a chat as a second agent.
 */

/** An invitation for an agent to join a chat as a second agent. */
export interface Invitation {
  chatId: string;
  agentId: string;
  fromId: string;
  fromName: string;
  expiresAt: number;
}

/** Departures and invitations in SQLite. */
export class DispatcherPresence {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    // Agents whose last console socket closed, and when: their chats are requeued after the
    // reconnect grace period.
    sql.exec(
      "CREATE TABLE IF NOT EXISTS departures (agent_id TEXT PRIMARY KEY, at INTEGER NOT NULL)",
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS invitations (
      chat_id TEXT NOT NULL, agent_id TEXT NOT NULL, from_id TEXT NOT NULL, from_name TEXT NOT NULL,
      expires_at INTEGER NOT NULL, PRIMARY KEY (chat_id, agent_id))`);
  }

  departed(agentId: string, at: number): void {
    this.#sql.exec("INSERT OR IGNORE INTO departures (agent_id, at) VALUES (?, ?)", agentId, at);
  }

  returned(agentId: string): void {
    this.#sql.exec("DELETE FROM departures WHERE agent_id = ?", agentId);
  }

  /** Agents gone since before `before`. */
  departedBefore(before: number): string[] {
    return this.#sql
      .exec<{ agent_id: string }>("SELECT agent_id FROM departures WHERE at <= ?", before)
      .toArray()
      .map((row) => row.agent_id);
  }

  nextDeparture(): number | null {
    return this.#sql.exec<{ at: number | null }>("SELECT min(at) AS at FROM departures").one().at;
  }

  invite(invitation: Invitation): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO invitations (chat_id, agent_id, from_id, from_name, expires_at) VALUES (?, ?, ?, ?, ?)",
      invitation.chatId,
      invitation.agentId,
      invitation.fromId,
      invitation.fromName,
      invitation.expiresAt,
    );
  }

  invitation(chatId: string, agentId: string): Invitation | null {
    const row = this.#sql
      .exec<InvitationRow>(
        "SELECT * FROM invitations WHERE chat_id = ? AND agent_id = ?",
        chatId,
        agentId,
      )
      .toArray()[0];
    return row ? toInvitation(row) : null;
  }

  /** Invitations of a chat, or every invitation. */
  invitations(chatId?: string): Invitation[] {
    const rows =
      chatId === undefined
        ? this.#sql.exec<InvitationRow>("SELECT * FROM invitations")
        : this.#sql.exec<InvitationRow>("SELECT * FROM invitations WHERE chat_id = ?", chatId);
    return rows.toArray().map(toInvitation);
  }

  dropInvitation(chatId: string, agentId: string): void {
    this.#sql.exec("DELETE FROM invitations WHERE chat_id = ? AND agent_id = ?", chatId, agentId);
  }

  nextInvitationExpiry(): number | null {
    return this.#sql
      .exec<{ at: number | null }>("SELECT min(expires_at) AS at FROM invitations")
      .one().at;
  }
}

interface InvitationRow extends Record<string, SqlStorageValue> {
  chat_id: string;
  agent_id: string;
  from_id: string;
  from_name: string;
  expires_at: number;
}

function toInvitation(row: InvitationRow): Invitation {
  return {
    chatId: row.chat_id,
    agentId: row.agent_id,
    fromId: row.from_id,
    fromName: row.from_name,
    expiresAt: row.expires_at,
  };
}
