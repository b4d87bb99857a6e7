/** Schema upkeep for Durable Object SQLite tables that outlive deploys. */

/**
 * Adds the columns a table created by an older version lacks. SQLite has no
 * `ADD COLUMN IF NOT EXISTS`, and objects keep their storage across deploys.
 */
export function addMissingColumns(
  sql: SqlStorage,
  table: string,
  columns: Record<string, string>,
): void {
  const present = new Set(
    sql
      .exec<{ name: string }>(`PRAGMA table_info(${table})`)
      .toArray()
      .map((c) => c.name),
  );
  for (const [name, declaration] of Object.entries(columns)) {
    if (!present.has(name)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${declaration}`);
  }
}
