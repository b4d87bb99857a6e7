/**
 * Custom variables against their declarations: which values chat start refuses, and which
 * stored values agents may see. Pure and runtime-neutral (the Worker and the console).
 */
import { z } from "zod";
import type { ChatVariables, VariableDeclaration, VariableValue } from "../protocol/variables.ts";

/** What the checks need of a declaration. */
export type VariableSpec = Pick<
  VariableDeclaration,
  "name" | "type" | "maxLength" | "visibleToAgents"
>;

/**
 * Why a value was refused: no such declaration, not of the declared type, longer than its
 * `maxLength`, or (email, url) not in the declared format.
 */
export type VariableProblem = "undeclared" | "wrong_type" | "too_long" | "invalid_format";

/** The pre-chat form's email rule, so a variable of type `email` means the same thing. */
const email = z.string().email();

/** An absolute http(s) URL, as the pre-chat form's `pageUrl`. */
function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value) && URL.canParse(value);
}

function problemOf(spec: VariableSpec, value: VariableValue): VariableProblem | null {
  if (spec.type === "number" || spec.type === "boolean") {
    return typeof value === spec.type ? null : "wrong_type";
  }
  if (typeof value !== "string") return "wrong_type";
  if (spec.maxLength !== null && value.length > spec.maxLength) return "too_long";
  if (spec.type === "email" && !email.safeParse(value).success) return "invalid_format";
  if (spec.type === "url" && !isHttpUrl(value)) return "invalid_format";
  return null;
}

const byName = (declarations: readonly VariableSpec[]) =>
  new Map(declarations.map((spec) => [spec.name, spec]));

/**
 * The problem of each refused value, by variable name; empty when every value fits its
 * declaration. Names are case-sensitive. Lengths count the (card-masked) value as stored.
 */
export function validateVariables(
  declarations: readonly VariableSpec[],
  values: Readonly<ChatVariables>,
): Record<string, VariableProblem> {
  const specs = byName(declarations);
  const problems: [string, VariableProblem][] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = specs.get(name);
    const problem = spec ? problemOf(spec, value) : "undeclared";
    if (problem) problems.push([name, problem]);
  }
  return Object.fromEntries(problems);
}

/**
 * The values agents may see: those of variables declared now with `visibleToAgents`. A value
 * whose declaration was removed is hidden too (fails closed: the declaration may have been
 * the one that hid it); declaring the variable again shows it.
 */
export function visibleVariables(
  declarations: readonly VariableSpec[],
  values: Readonly<ChatVariables>,
): ChatVariables {
  const specs = byName(declarations);
  return Object.fromEntries(
    Object.entries(values).filter(([name]) => specs.get(name)?.visibleToAgents === true),
  );
}
