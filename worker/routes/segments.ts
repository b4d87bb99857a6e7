/**
 * Visitor segments (`segments.manage`): list, create, change, remove. Chat start tells the
 * agent which segments the visitor is in (worker/visitor-facts.ts). Changes need an allowed
 * Origin and are audited (`segment.create`, `segment.update`, `segment.delete`, before and
 * after).
 */
import { type Context, Hono } from "hono";
import {
  createSegmentRequestFor,
  MAX_SEGMENTS,
  type Segment,
  type SegmentListResponse,
  type SegmentResponse,
  type SegmentRules,
  segmentId,
  updateSegmentRequestFor,
} from "../../src/protocol/segments.ts";
import {
  countSegments,
  createSegment,
  deleteSegment,
  findSegment,
  listSegments,
  updateSegment,
} from "../../src/store/segments.ts";
import { loadVariableDeclarations } from "../../src/store/variables.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { assertNoFieldProblems, readJson } from "../read-json.ts";

export const segmentsRoutes = new Hono<AppEnv>();

segmentsRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("segments.manage");

const notFound = () => new ApiError(404, "segment_not_found", "No such segment.");

/** What an audit row records of a segment (the name and texts are already card-masked). */
const described = (segment: Pick<Segment, "name" | "rules">) => ({
  name: segment.name,
  rules: segment.rules,
});

/** The segment named in the path; 404 for an id that is not one (or cannot be). */
async function pathSegment(c: Context<AppEnv>): Promise<Segment> {
  const id = c.req.param("id") ?? "";
  const found = segmentId.safeParse(id).success ? await findSegment(c.env.DB, id) : null;
  if (!found) throw notFound();
  return found;
}

/**
 * Variable conditions name declared variables (400 like a schema error otherwise): a typo
 * would make a segment that silently never matches.
 */
async function assertDeclaredVariables(db: D1Database, rules: SegmentRules): Promise<void> {
  const named = rules.conditions.flatMap((condition, index) =>
    condition.field === "variable" ? [{ name: condition.name, index }] : [],
  );
  if (named.length === 0) return;
  const declared = new Set((await loadVariableDeclarations(db)).map((v) => v.name));
  assertNoFieldProblems(
    named
      .filter(({ name }) => !declared.has(name))
      .map(({ index }) => ({
        path: `rules.conditions.${index}.name`,
        message: "no custom variable has this name",
      })),
  );
}

/** Reads a segment just written (it cannot be missing: this request wrote it). */
async function written(db: D1Database, id: string): Promise<Segment> {
  const segment = await findSegment(db, id);
  if (!segment) throw new Error("segment vanished after write");
  return segment;
}

segmentsRoutes.get("/", manage, async (c) => {
  const body: SegmentListResponse = { segments: await listSegments(c.env.DB) };
  return c.json(body);
});

segmentsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const input = await readJson(c, createSegmentRequestFor(c.var.config.cardMasking));
  const db = c.env.DB;
  await assertDeclaredVariables(db, input.rules);
  if ((await countSegments(db)) >= MAX_SEGMENTS) {
    throw new ApiError(409, "too_many_segments", `At most ${MAX_SEGMENTS} segments can exist.`);
  }
  if (!(await createSegment(db, { ...input, agentId: c.var.agent.id, now: Date.now() }))) {
    throw new ApiError(409, "segment_exists", "A segment with this id already exists.");
  }
  const segment = await written(db, input.id);
  await auditAction(c, {
    action: "segment.create",
    target: segment.id,
    outcome: "success",
    details: { before: null, after: described(segment) },
  });
  const body: SegmentResponse = { segment };
  return c.json(body, 201);
});

segmentsRoutes.put("/:id", manage, consoleOrigin(), async (c) => {
  const before = await pathSegment(c);
  const input = await readJson(c, updateSegmentRequestFor(c.var.config.cardMasking));
  const db = c.env.DB;
  await assertDeclaredVariables(db, input.rules);
  // Gone since the read (a concurrent delete): the same answer as a missing one.
  if (
    !(await updateSegment(db, before.id, { ...input, agentId: c.var.agent.id, now: Date.now() }))
  ) {
    throw notFound();
  }
  await auditAction(c, {
    action: "segment.update",
    target: before.id,
    outcome: "success",
    details: { before: described(before), after: described(input) },
  });
  const body: SegmentResponse = { segment: await written(db, before.id) };
  return c.json(body);
});

segmentsRoutes.delete("/:id", manage, consoleOrigin(), async (c) => {
  const before = await pathSegment(c);
  if (!(await deleteSegment(c.env.DB, before.id))) throw notFound();
  await auditAction(c, {
    action: "segment.delete",
    target: before.id,
    outcome: "success",
    details: { before: described(before), after: null },
  });
  return c.json({ ok: true });
});
