/**
 * Which segments a visitor is in, from what is known about them. Pure and runtime-neutral:
 * the Worker evaluates it at chat start, and routing or the live-visitors list can reuse it.
 */
import type { Segment, SegmentCondition } from "../protocol/segments.ts";
import type { ChatVariables, VariableValue } from "../protocol/variables.ts";
import { matchesUrlRule } from "./campaign-match.ts";

/** What segment rules are evaluated against. */
export interface VisitorFacts {
  /** The page the visitor is on (card-masked, as stored); null when unknown. */
  url: string | null;
  /** ISO 3166-1 alpha-2 (`request.cf.country`); null when unknown (tests, local dev). */
  country: string | null;
  /** Visits so far, this one included (at least 1). */
  visits: number;
  variables: Readonly<ChatVariables>;
}

type VariableCondition = Extract<SegmentCondition, { field: "variable" }>;

function variableHolds(condition: VariableCondition, variables: Readonly<ChatVariables>): boolean {
  // Own properties only: a variable named `constructor` is not Object.prototype's.
  if (!Object.hasOwn(variables, condition.name)) return false;
  const value: VariableValue | undefined = variables[condition.name];
  switch (condition.op) {
    case "exists":
      return true;
    case "equals":
      // Same type too: the number 3 is not the text "3".
      return value === condition.value;
    case "contains":
      return typeof value === "string" && value.includes(condition.value);
    case "gte":
      return typeof value === "number" && value >= condition.value;
    case "lte":
      return typeof value === "number" && value <= condition.value;
  }
}

/** Whether one condition holds. Unknown facts (no URL, no country) satisfy no condition. */
function holds(condition: SegmentCondition, facts: VisitorFacts): boolean {
  switch (condition.field) {
    case "url":
      // As a campaign's URL rule: case-insensitive, `*` the only wildcard.
      return facts.url !== null && matchesUrlRule(condition, facts.url);
    case "country":
      return facts.country !== null && condition.values.includes(facts.country.toUpperCase());
    case "visits":
      if (condition.op === "gte") return facts.visits >= condition.value;
      if (condition.op === "lte") return facts.visits <= condition.value;
      return facts.visits === condition.value;
    case "variable":
      return variableHolds(condition, facts.variables);
  }
}

/**
 * The ids of the segments whose rules the visitor matches, in the order given. `all` needs
 * every condition (so `all` without conditions matches every visitor), `any` at least one
 * (so `any` without conditions matches nobody) — the usual meaning of "every" and "some".
 */
export function segmentsOf(
  segments: readonly Pick<Segment, "id" | "rules">[],
  facts: VisitorFacts,
): string[] {
  return segments
    .filter(({ rules }) =>
      rules.match === "all"
        ? rules.conditions.every((condition) => holds(condition, facts))
        : rules.conditions.some((condition) => holds(condition, facts)),
    )
    .map((segment) => segment.id);
}
