/**
 * D1 access to custom variable declarations (table `custom_variables`, migration 0012). The
 * values themselves are stored with each chat (`chats.variables`, JSON).
 */
import { visibleVariables } from "../desk/custom-variables.ts";
import type { ChatVariables, VariableDeclaration, VariableType } from "../protocol/variables.ts";

interface VariableRow {
  name: string;
  label: string;
  type: VariableType;
  max_length: number | null;
  visible_to_agents: number;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

function toDeclaration(row: VariableRow): VariableDeclaration {
  return {
    name: row.name,
    label: row.label,
    type: row.type,
    maxLength: row.max_length,
    visibleToAgents: row.visible_to_agents === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** The fields an administrator writes. */
export type VariableContent = Pick<
  VariableDeclaration,
  "label" | "type" | "maxLength" | "visibleToAgents"
>;

/** Every declaration, by name (chat start checks the site's values against them). */
export async function loadVariableDeclarations(db: D1Database): Promise<VariableDeclaration[]> {
  const { results } = await db
    .prepare("SELECT * FROM custom_variables ORDER BY name")
    .all<VariableRow>();
  return results.map(toDeclaration);
}

/** One declaration by its exact (case-sensitive) name. */
export async function findVariable(
  db: D1Database,
  name: string,
): Promise<VariableDeclaration | null> {
  const row = await db
    .prepare("SELECT * FROM custom_variables WHERE name = ?1")
    .bind(name)
    .first<VariableRow>();
  return row ? toDeclaration(row) : null;
}

/** How many variables are declared. */
export async function countVariables(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT count(*) AS n FROM custom_variables").first<{ n: number }>();
  return row?.n ?? 0;
}

/** Declares a variable; false when the name is taken (the primary key decides). */
export async function createVariable(
  db: D1Database,
  variable: VariableContent & { name: string; agentId: string; now: number },
): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO custom_variables (name, label, type, max_length, visible_to_agents,
         created_at, updated_at, updated_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
       ON CONFLICT DO NOTHING`,
    )
    .bind(
      variable.name,
      variable.label,
      variable.type,
      variable.maxLength,
      variable.visibleToAgents ? 1 : 0,
      variable.now,
      variable.agentId,
    )
    .run();
  return result.meta.changes === 1;
}

/** Replaces a declaration's fields; false when there is no such variable. */
export async function updateVariable(
  db: D1Database,
  name: string,
  content: VariableContent & { agentId: string; now: number },
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE custom_variables SET label = ?2, type = ?3, max_length = ?4,
         visible_to_agents = ?5, updated_at = ?6, updated_by = ?7
       WHERE name = ?1`,
    )
    .bind(
      name,
      content.label,
      content.type,
      content.maxLength,
      content.visibleToAgents ? 1 : 0,
      content.now,
      content.agentId,
    )
    .run();
  return result.meta.changes > 0;
}

/** Removes a declaration (values stored with chats stay); false when there was none. */
export async function deleteVariable(db: D1Database, name: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM custom_variables WHERE name = ?1").bind(name).run();
  return result.meta.changes > 0;
}

/**
 * The stored values of a chat that agents may see (src/desk/custom-variables.ts,
 * `visibleVariables`), against the declarations as they are now; null stays null.
 */
export async function agentVisibleVariables(
  db: D1Database,
  values: ChatVariables | null,
): Promise<ChatVariables | null> {
  if (values === null) return null;
  return visibleVariables(await loadVariableDeclarations(db), values);
}
