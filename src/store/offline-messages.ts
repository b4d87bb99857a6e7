/** D1 access to offline messages (left when no agent was online). */

export interface NewOfflineMessage {
  id: string;
  name: string | null;
  email: string;
  departmentId: string;
  message: string;
  pageUrl: string | null;
  ip: string | null;
  now: number;
}

/** Stores an offline message. */
export async function createOfflineMessage(db: D1Database, msg: NewOfflineMessage): Promise<void> {
  await db
    .prepare(
      `INSERT INTO offline_messages (id, name, email, department_id, message, page_url, ip, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    )
    .bind(msg.id, msg.name, msg.email, msg.departmentId, msg.message, msg.pageUrl, msg.ip, msg.now)
    .run();
}
