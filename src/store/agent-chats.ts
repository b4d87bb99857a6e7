/**
 * D1 access to agent-to-agent messages: idempotent insert, one conversation newest first,
 * an agent's conversations, and the supervisors' search (FTS5 `agent_message_fts`), both
 * paged by keyset like transcripts (search-page.ts).
 */
import type { AgentConversation, AgentMessage } from "../protocol/agent-chats.ts";
import type { PageCursor } from "../protocol/http.ts";
import { type SearchPage, type SearchWindow, toPage, windowConditions } from "./search-page.ts";
import { ftsPhrase } from "./transcripts.ts";

/** A message to store; its text is already card-masked. */
export interface NewAgentMessage {
  id: string;
  conversationId: string;
  senderId: string;
  recipientId: string;
  clientId: string;
  text: string;
  at: number;
}

interface MessageRow {
  id: string;
  conversationId: string;
  fromId: string;
  fromName: string;
  toId: string;
  toName: string;
  clientId: string;
  text: string;
  /** `at`, named for toPage and windowConditions. */
  createdAt: number;
}

/**
 * Messages with both agents' names, `at` exposed as `created_at` so the shared window and
 * keyset conditions (search-page.ts) apply as to transcripts. SQLite flattens the subquery,
 * so those conditions still use the indexes on `at`.
 */
const MESSAGE_COLUMNS = `
  m.id, m.conversation_id AS conversationId, m.sender_id AS fromId, s.name AS fromName,
  m.recipient_id AS toId, r.name AS toName, m.client_id AS clientId, m.text,
  m.created_at AS createdAt`;
const FROM_MESSAGES = `
  FROM (SELECT *, at AS created_at FROM agent_messages) m
  JOIN agents s ON s.id = m.sender_id
  JOIN agents r ON r.id = m.recipient_id`;
const SELECT_MESSAGES = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}`;

function toMessage(row: MessageRow): AgentMessage {
  return {
    id: row.id,
    conversationId: row.conversationId,
    from: { id: row.fromId, name: row.fromName },
    to: { id: row.toId, name: row.toName },
    clientId: row.clientId,
    text: row.text,
    at: row.createdAt,
  };
}

function toMessagePage(rows: MessageRow[], limit: number): SearchPage<AgentMessage> {
  const page = toPage(rows, limit);
  return { rows: page.rows.map(toMessage), next: page.next };
}

/**
 * Stores a message unless the sender already stored one with the same `clientId`; returns
 * the stored message either way (`created` false on a resend). One batch: a transaction.
 */
export async function insertAgentMessage(
  db: D1Database,
  message: NewAgentMessage,
): Promise<{ message: AgentMessage; created: boolean }> {
  const [inserted, stored] = await db.batch<MessageRow>([
    db
      .prepare(
        `INSERT INTO agent_messages
           (id, conversation_id, sender_id, recipient_id, client_id, text, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (sender_id, client_id) DO NOTHING
         RETURNING id`,
      )
      .bind(
        message.id,
        message.conversationId,
        message.senderId,
        message.recipientId,
        message.clientId,
        message.text,
        message.at,
      ),
    db
      .prepare(`${SELECT_MESSAGES} WHERE m.sender_id = ?1 AND m.client_id = ?2`)
      .bind(message.senderId, message.clientId),
  ]);
  const row = stored?.results[0];
  // The SELECT runs in the same transaction right after the insert: the row is there.
  if (!row) throw new Error("agent message missing after insert");
  // RETURNING yields the row only when it was inserted (`meta.changes` also counts the FTS
  // trigger's writes, so it cannot tell).
  return { message: toMessage(row), created: inserted?.results.length === 1 };
}

/** One page of a conversation, newest first, strictly older than `before` when given. */
export async function listConversation(
  db: D1Database,
  conversationId: string,
  page: { before?: PageCursor; limit: number },
): Promise<SearchPage<AgentMessage>> {
  const where = ["m.conversation_id = ?"];
  const params: unknown[] = [conversationId];
  windowConditions(where, params, "m.", {
    departments: null,
    after: page.before,
    limit: page.limit,
  });
  const { results } = await db
    .prepare(
      `${SELECT_MESSAGES} WHERE ${where.join(" AND ")}
       ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    )
    .bind(...params, page.limit + 1)
    .all<MessageRow>();
  return toMessagePage(results, page.limit);
}

/**
 * The agent's conversations, latest activity first, each with its last message and size.
 * Not paged: an agent has at most one conversation per other agent (hundreds at most).
 */
export async function listConversations(
  db: D1Database,
  agentId: string,
): Promise<AgentConversation[]> {
  const { results } = await db
    .prepare(
      `WITH ranked AS (
         SELECT id,
                row_number() OVER (PARTITION BY conversation_id ORDER BY at DESC, id DESC) AS rank,
                count(*) OVER (PARTITION BY conversation_id) AS messageCount
         FROM agent_messages WHERE sender_id = ?1 OR recipient_id = ?1)
       SELECT ${MESSAGE_COLUMNS}, ranked.messageCount ${FROM_MESSAGES}
       JOIN ranked ON ranked.id = m.id AND ranked.rank = 1
       ORDER BY m.created_at DESC, m.id DESC`,
    )
    .bind(agentId)
    .all<MessageRow & { messageCount: number }>();
  return results.map((row) => {
    const lastMessage = toMessage(row);
    return {
      conversationId: row.conversationId,
      agent: lastMessage.from.id === agentId ? lastMessage.to : lastMessage.from,
      lastMessage,
      messageCount: row.messageCount,
    };
  });
}

/** Filters of a supervisors' search; every one given must hold. */
export interface AgentMessageFilters extends SearchWindow {
  /** Terms that must all occur in the message. */
  keywords?: string[];
  /** Messages this agent sent or received. */
  agentId?: string;
}

/**
 * Agents of the departments in the JSON array parameter: members, and agents without a
 * department when `general` is one of them (they belong to it, as in agents.ts).
 */
const AGENTS_OF_DEPARTMENTS = `(
  SELECT agent_id FROM agent_departments
  WHERE department_id IN (SELECT value FROM json_each(?))
  UNION ALL
  SELECT a.id FROM agents a
  WHERE 'general' IN (SELECT value FROM json_each(?))
    AND NOT EXISTS (SELECT 1 FROM agent_departments ad WHERE ad.agent_id = a.id))`;

/**
 * Searches messages, newest first. `departments` keeps the messages of conversations in
 * which at least one of the two agents belongs to one of them (null: every conversation).
 */
export async function searchAgentMessages(
  db: D1Database,
  filters: AgentMessageFilters,
): Promise<SearchPage<AgentMessage>> {
  const { departments } = filters;
  if (departments?.length === 0) return { rows: [], next: null };
  const where: string[] = [];
  const params: unknown[] = [];
  // Messages carry no department: the scope is the agents', applied below.
  windowConditions(where, params, "m.", { ...filters, departments: null });
  if (departments) {
    const list = JSON.stringify(departments);
    where.push(
      `(m.sender_id IN ${AGENTS_OF_DEPARTMENTS} OR m.recipient_id IN ${AGENTS_OF_DEPARTMENTS})`,
    );
    params.push(list, list, list, list);
  }
  if (filters.keywords?.length) {
    // One MATCH of every phrase: FTS5 ANDs them, within the one message.
    where.push(
      "m.id IN (SELECT message_id FROM agent_message_fts WHERE agent_message_fts MATCH ?)",
    );
    params.push(filters.keywords.map(ftsPhrase).join(" "));
  }
  if (filters.agentId !== undefined) {
    where.push("(m.sender_id = ? OR m.recipient_id = ?)");
    params.push(filters.agentId, filters.agentId);
  }
  const { results } = await db
    .prepare(
      `${SELECT_MESSAGES} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
    )
    .bind(...params, filters.limit + 1)
    .all<MessageRow>();
  return toMessagePage(results, filters.limit);
}
