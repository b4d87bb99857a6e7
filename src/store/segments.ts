/**
 * D1 access to visitor segments (table `segments`, migration 0012) and the visit count their
 * rules read.
 */
import type { Segment, SegmentRules } from "../protocol/segments.ts";

interface SegmentRow {
  id: string;
  name: string;
  rules: string;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

function toSegment(row: SegmentRow): Segment {
  return {
    id: row.id,
    name: row.name,
    // Written by saveSegment from a validated request: parsing it again would only cost.
    rules: JSON.parse(row.rules) as SegmentRules,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** The fields an administrator writes. */
export type SegmentContent = Pick<Segment, "name" | "rules">;

/** Every segment, by id. */
export async function listSegments(db: D1Database): Promise<Segment[]> {
  const { results } = await db.prepare("SELECT * FROM segments ORDER BY id").all<SegmentRow>();
  return results.map(toSegment);
}

/** One segment. */
export async function findSegment(db: D1Database, id: string): Promise<Segment | null> {
  const row = await db.prepare("SELECT * FROM segments WHERE id = ?1").bind(id).first<SegmentRow>();
  return row ? toSegment(row) : null;
}

/** How many segments exist. */
export async function countSegments(db: D1Database): Promise<number> {
  const row = await db.prepare("SELECT count(*) AS n FROM segments").first<{ n: number }>();
  return row?.n ?? 0;
}

/** Creates a segment; false when the id is taken (the primary key decides). */
export async function createSegment(
  db: D1Database,
  segment: SegmentContent & { id: string; agentId: string; now: number },
): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO segments (id, name, rules, created_at, updated_at, updated_by)
       VALUES (?1, ?2, ?3, ?4, ?4, ?5)
       ON CONFLICT DO NOTHING`,
    )
    .bind(segment.id, segment.name, JSON.stringify(segment.rules), segment.now, segment.agentId)
    .run();
  return result.meta.changes === 1;
}

/** Replaces a segment's name and rules; false when there is no such segment. */
export async function updateSegment(
  db: D1Database,
  id: string,
  content: SegmentContent & { agentId: string; now: number },
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE segments SET name = ?2, rules = ?3, updated_at = ?4, updated_by = ?5
       WHERE id = ?1`,
    )
    .bind(id, content.name, JSON.stringify(content.rules), content.now, content.agentId)
    .run();
  return result.meta.changes > 0;
}

/** Removes a segment; false when there was none. */
export async function deleteSegment(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM segments WHERE id = ?1").bind(id).run();
  return result.meta.changes > 0;
}

/**
 * The visit count segment rules see: the visitor's earlier chats in D1, plus this visit.
 * Call it before the new chat is stored. (Stand-in until the live visitors' own counts.)
 */
export async function visitCount(db: D1Database, visitorId: string): Promise<number> {
  const row = await db
    .prepare("SELECT count(*) AS n FROM chats WHERE visitor_id = ?1")
    .bind(visitorId)
    .first<{ n: number }>();
  return (row?.n ?? 0) + 1;
}
