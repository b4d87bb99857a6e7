/**
 * The audit log for auditors (issue 4, item 5): search, CSV export and chain verification,
 * all with "view audit logs" (`audit.view`). Each use is itself an audit row, with the
 * filters in its details. No route here — or anywhere — updates or deletes audit rows.
 */
import { Hono } from "hono";
import { z } from "zod";
import {
  departmentId,
  fromBeforeTo,
  fromBeforeToIssue,
  queryTimestamp,
} from "../../src/protocol/http.ts";
import { maskedText } from "../../src/protocol/masked-text.ts";
import type { AuditRow } from "../../src/security/audit-chain.ts";
import {
  type AuditFilters,
  type AuditLogEntry,
  searchAudit,
  toAuditLogEntry,
} from "../../src/store/audit.ts";
import { AUDIT_COLUMNS } from "../../src/store/audit-table.ts";
import { alertChainBroken } from "../alerts.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { verifyStoredAuditChain } from "../audit-chain-check.ts";
import { csvLine } from "../csv.ts";
import { requirePermission } from "../middleware/access.ts";
import { requireRecentAuth } from "../middleware/recent-auth.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { readQuery } from "../read-query.ts";

export const auditRoutes = new Hono<AppEnv>();

auditRoutes.use(requireAgent({ tokens: true }));

/** Most rows one search page returns (`limit`); 50 when not given. */
export const MAX_AUDIT_LIMIT = 100;
/** Rows per query while exporting. */
const EXPORT_PAGE = 1000;
/**
 * D1 allows 1,000 queries per invocation: an export of more pages (900,000 rows) is aborted
 * mid-stream, and the caller narrows the time range.
 */
const MAX_EXPORT_PAGES = 900;

const filterFields = {
  /** at ≥ from (inclusive). */
  from: queryTimestamp.optional(),
  /** at < to (exclusive). */
  to: queryTimestamp.optional(),
  /** Keywords; card numbers are masked first, since the search itself is an audit row. */
  q: maskedText(z.string().trim().max(200)).optional(),
  actor: z.string().trim().min(1).max(256).optional(),
  /** `auth.login`, or a prefix ending in `*`: `auth.*`. */
  action: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,100}\*?$/, "an action (auth.login) or a prefix ending in * (auth.*)")
    .optional(),
  outcome: z.enum(["success", "failure", "denied"]).optional(),
  department: departmentId.optional(),
};

/** `GET /api/audit` query string. */
const searchQuery = z
  .object({
    ...filterFields,
    /** `nextCursor` of the previous page. */
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, "a cursor from a previous page")
      .transform(Number)
      .optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, "an integer")
      .transform(Number)
      .pipe(z.number().int().min(1).max(MAX_AUDIT_LIMIT))
      .default(50),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);

/** `GET /api/audit/export` query string. */
const exportQuery = z.object(filterFields).strict().refine(fromBeforeTo, fromBeforeToIssue);

/** `GET /api/audit` response body. */
export interface AuditSearchResponse {
  entries: AuditLogEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** `GET /api/audit/verify` response body. */
export interface AuditVerifyResponse {
  ok: boolean;
  checked: number;
  head: { id: number; hash: string } | null;
  checkpoint: { id: number; at: string } | null;
  problem?: { id: number; kind: string; message: string };
}

function toFilters(query: z.infer<typeof exportQuery>): AuditFilters {
  const { q, ...rest } = query;
  return q ? { ...rest, keyword: q } : rest;
}

auditRoutes.get("/", requirePermission("audit.view"), async (c) => {
  const { cursor, limit, ...filters } = readQuery(c, searchQuery);
  const page = await searchAudit(c.env.DB, toFilters(filters), cursor ?? null, limit);
  await auditAction(c, {
    action: "audit.search",
    target: null,
    outcome: "success",
    details: {
      ...filters,
      page: cursor === undefined ? "first" : "next",
      results: page.rows.length,
    },
  });
  const body: AuditSearchResponse = {
    entries: page.rows.map(toAuditLogEntry),
    nextCursor: page.nextCursor === null ? null : String(page.nextCursor),
  };
  return c.json(body);
});

// Export is a re-authentication action (authentication issue, item 5): the whole log leaves.
auditRoutes.get("/export", requirePermission("audit.view"), requireRecentAuth(), async (c) => {
  const query = readQuery(c, exportQuery);
  const filters = toFilters(query);
  await auditAction(c, {
    action: "audit.export",
    target: null,
    outcome: "success",
    details: { ...query },
  });
  const db = c.env.DB;
  const encoder = new TextEncoder();
  let cursor: number | null = null;
  let pages = 0;
  // Paged through the same keyset cursor as search: rows appended meanwhile (higher ids)
  // never shift the pages, and no more than one page is ever in memory.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvLine(AUDIT_COLUMNS)));
    },
    async pull(controller) {
      const page = await searchAudit(db, filters, cursor, EXPORT_PAGE);
      controller.enqueue(encoder.encode(page.rows.map(csvRow).join("")));
      pages += 1;
      if (page.nextCursor === null) controller.close();
      else if (pages >= MAX_EXPORT_PAGES) {
        // Abort rather than end: a cut-off file must not look complete.
        controller.error(new Error("audit export too large; narrow the time range"));
      } else cursor = page.nextCursor;
    },
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return c.body(stream, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="audit-${stamp}.csv"`,
    "cache-control": "no-store",
  });
});

auditRoutes.get("/verify", requirePermission("audit.view"), async (c) => {
  const result = await verifyStoredAuditChain(c.env);
  // After the answer: the auditor sees the break at once, the operator through the alert.
  if (result.problem) {
    c.executionCtx.waitUntil(alertChainBroken(c.env, c.var.config, result.problem));
  }
  await auditAction(c, {
    action: "audit.verify",
    target: null,
    outcome: "success",
    details: {
      ok: result.ok,
      checked: result.checked,
      ...(result.problem ? { problemId: result.problem.id, problem: result.problem.problem } : {}),
    },
  });
  const body: AuditVerifyResponse = {
    ok: result.ok,
    checked: result.checked,
    head: result.head,
    checkpoint: result.checkpoint
      ? { id: result.checkpoint.id, at: new Date(result.checkpoint.at).toISOString() }
      : null,
  };
  if (result.problem) {
    const { id, problem: kind, message } = result.problem;
    body.problem = { id, kind, message };
  }
  return c.json(body);
});

/** A row in AUDIT_COLUMNS order, the time as ISO-8601 (UTC). */
function csvRow(row: AuditRow): string {
  return csvLine(
    AUDIT_COLUMNS.map((column) => (column === "at" ? new Date(row.at).toISOString() : row[column])),
  );
}
