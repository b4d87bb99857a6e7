/**
 * What chat start adds to the pre-chat form: the site's custom variables, checked against
 * their declarations, and the segments the visitor falls in — both for the `VisitorSummary`
 * agents are offered (visible variables only).
 */
import type { Context } from "hono";
import { validateVariables, visibleVariables } from "../src/desk/custom-variables.ts";
import { segmentsOf } from "../src/desk/segments.ts";
import type { VisitorSummary } from "../src/protocol/dispatcher-frames.ts";
import type { ChatVariables, VariableDeclaration } from "../src/protocol/variables.ts";
import { listSegments, visitCount } from "../src/store/segments.ts";
import { loadVariableDeclarations } from "../src/store/variables.ts";
import { ApiError } from "./api-error.ts";
import type { AppEnv } from "./app-env.ts";

/** A chat's variables, checked, with the declarations they were checked against. */
export interface CheckedVariables {
  values: ChatVariables;
  declarations: VariableDeclaration[];
}

/**
 * The site's variables (card-masked by the schema) when every one is declared and fits;
 * otherwise 400 `invalid_variables` with `details.fields`: the problem of each refused one.
 */
export async function checkedVariables(
  db: D1Database,
  values: ChatVariables | undefined,
): Promise<CheckedVariables> {
  if (values === undefined || Object.keys(values).length === 0) {
    return { values: {}, declarations: [] };
  }
  const declarations = await loadVariableDeclarations(db);
  const fields = validateVariables(declarations, values);
  const names = Object.keys(fields);
  if (names.length > 0) {
    throw new ApiError(
      400,
      "invalid_variables",
      `variables: ${names.map((name) => `${name} is ${fields[name]}`).join(", ")}`,
      { fields },
    );
  }
  return { values, declarations };
}

/** The country Cloudflare located the visitor in; null where there is none (tests, dev). */
function country(c: Context<AppEnv>): string | null {
  const cf = c.req.raw.cf as { country?: unknown } | undefined;
  return typeof cf?.country === "string" ? cf.country : null;
}

/**
 * The visitor's visible variables and segments, for the offer. Call it before the chat is
 * stored: the visit count is the visitor's earlier chats plus this one.
 */
export async function visitorFacts(
  c: Context<AppEnv>,
  visit: { visitorId: string; pageUrl: string | null; variables: CheckedVariables },
): Promise<Pick<VisitorSummary, "variables" | "segments">> {
  const db = c.env.DB;
  const [segments, visits] = await Promise.all([listSegments(db), visitCount(db, visit.visitorId)]);
  const { values, declarations } = visit.variables;
  const visible = visibleVariables(declarations, values);
  return {
    ...(Object.keys(visible).length > 0 ? { variables: visible } : {}),
    segments: segmentsOf(segments, {
      url: visit.pageUrl,
      country: country(c),
      visits,
      variables: values,
    }),
  };
}
