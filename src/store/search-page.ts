/**
 * What transcript and offline-message search share: a department scope, a time window on
 * `created_at`, and keyset pages newest first (`ORDER BY created_at DESC, id DESC`).
 */
import type { PageCursor } from "../protocol/http.ts";

/** The filters every search takes; every one given must hold. */
export interface SearchWindow {
  /** null: every department; otherwise only these (empty: nothing). */
  departments: string[] | null;
  /** created_at ≥ from. */
  from?: number;
  /** created_at < to. */
  to?: number;
  /** Rows strictly older than this position (created_at, then id, descending). */
  after?: PageCursor;
  limit: number;
}

/** One page of results and the position of its last row when more follow. */
export interface SearchPage<Row> {
  rows: Row[];
  next: PageCursor | null;
}

/**
 * Appends the window's conditions on a table with `department_id`, `created_at` and `id`
 * columns, each name after `prefix` (a table alias and dot, or "").
 */
export function windowConditions(
  where: string[],
  params: unknown[],
  prefix: string,
  window: SearchWindow,
): void {
  if (window.departments) {
    // One JSON parameter instead of one per department: D1 allows 100 bound parameters.
    where.push(`${prefix}department_id IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(window.departments));
  }
  if (window.from !== undefined) {
    where.push(`${prefix}created_at >= ?`);
    params.push(window.from);
  }
  if (window.to !== undefined) {
    where.push(`${prefix}created_at < ?`);
    params.push(window.to);
  }
  if (window.after) {
    where.push(`(${prefix}created_at < ? OR (${prefix}created_at = ? AND ${prefix}id < ?))`);
    params.push(window.after.createdAt, window.after.createdAt, window.after.id);
  }
}

/** Splits `limit + 1` fetched rows into a page and the cursor of its last row. */
export function toPage<Row extends { id: string; createdAt: number }>(
  rows: Row[],
  limit: number,
): SearchPage<Row> {
  if (rows.length <= limit) return { rows, next: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page, next: last ? { createdAt: last.createdAt, id: last.id } : null };
}
