/**
 * D1 access to the agents in a chat besides its owner (table `chat_agents`, migration 0007):
 * agents who joined (`chats.join`) or were invited. With the owner (`chats.agent_id`) they
 * may open the chat socket in mode `participate`.
 */

/** How an agent takes part in a chat. */
export type ChatAgentRole = "owner" | "joined" | "invited";

/** The agent's part in the chat now, or null when they have none (or left). */
export async function chatAgentRole(
  db: D1Database,
  chatId: string,
  agentId: string,
): Promise<ChatAgentRole | null> {
  const row = await db
    .prepare(
      `SELECT CASE WHEN c.agent_id = ?2 THEN 'owner' ELSE a.role END AS role
       FROM chats c LEFT JOIN chat_agents a
         ON a.chat_id = c.id AND a.agent_id = ?2 AND a.left_at IS NULL
       WHERE c.id = ?1`,
    )
    .bind(chatId, agentId)
    .first<{ role: ChatAgentRole | null }>();
  return row?.role ?? null;
}

/** Adds (or re-adds, after leaving) an agent to a chat. */
export async function addChatAgent(
  db: D1Database,
  entry: {
    chatId: string;
    agentId: string;
    role: "joined" | "invited";
    addedBy: string;
    now: number;
  },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO chat_agents (chat_id, agent_id, role, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (chat_id, agent_id) DO UPDATE SET role = excluded.role,
         added_at = excluded.added_at, added_by = excluded.added_by, left_at = NULL`,
    )
    .bind(entry.chatId, entry.agentId, entry.role, entry.now, entry.addedBy)
    .run();
}

/** Records that an agent left a chat; answers whether they were in it. */
export async function leaveChatAgent(
  db: D1Database,
  chatId: string,
  agentId: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      "UPDATE chat_agents SET left_at = ?3 WHERE chat_id = ?1 AND agent_id = ?2 AND left_at IS NULL",
    )
    .bind(chatId, agentId, now)
    .run();
  return result.meta.changes > 0;
}
