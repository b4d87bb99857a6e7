/** D1 access for the colleague pickers (`GET /api/agent/colleagues`). */
import type { Colleague } from "../protocol/colleagues.ts";

/** Longest list answered; a desk of more agents than this in one's departments is unusual. */
const MAX_COLLEAGUES = 500;

/**
 * The enabled agents other than `agentId` who share one of `departments` (an agent without a
 * department counts as `general`, as everywhere), by name.
 */
export async function listColleagues(
  db: D1Database,
  agentId: string,
  departments: readonly string[],
): Promise<Colleague[]> {
  const { results } = await db
    .prepare(
      `SELECT a.id, a.name FROM agents a
       WHERE a.disabled_at IS NULL AND a.id != ?1
         AND EXISTS (
           SELECT 1 FROM (
             SELECT department_id AS d FROM agent_departments WHERE agent_id = a.id
             UNION ALL SELECT 'general'
             WHERE NOT EXISTS (SELECT 1 FROM agent_departments WHERE agent_id = a.id)
           ) WHERE d IN (SELECT value FROM json_each(?2)))
       ORDER BY a.name COLLATE NOCASE, a.id
       LIMIT ?3`,
    )
    .bind(agentId, JSON.stringify(departments), MAX_COLLEAGUES)
    .all<{ id: string; name: string }>();
  return results.map((row) => ({ id: row.id, name: row.name }));
}
