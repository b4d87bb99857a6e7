/**
 * The `audit_log` table's columns, for every writer and reader of whole rows: the Worker's
 * D1 statements, the admin CLI's SQL literals and the CSV export. Runtime-neutral (no D1
 * types), so the Node scripts share it.
 */
import type { AuditRow } from "../security/audit-chain.ts";

/** Every column of a row, in the order of the CSV export (docs/protocol.md). */
export const AUDIT_COLUMNS = [
  "id",
  "at",
  "actor_type",
  "actor_id",
  "action",
  "target",
  "outcome",
  "ip",
  "user_agent",
  "department",
  "details",
  "prev_hash",
  "hash",
] as const satisfies readonly (keyof AuditRow)[];

/** The columns as an SQL list, `id, at, …`. */
export const AUDIT_COLUMN_LIST = AUDIT_COLUMNS.join(", ");

/** A row's values in AUDIT_COLUMNS order. */
export function auditRowValues(row: AuditRow): (string | number | null)[] {
  return AUDIT_COLUMNS.map((column) => row[column]);
}

/** D1's error for a lost race for the next id (another writer appended first). */
export const AUDIT_ID_CONFLICT = /UNIQUE constraint failed: audit_log\.id\b/;
