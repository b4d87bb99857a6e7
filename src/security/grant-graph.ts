/**
 * Who holds what: agents with their departments and groups, and the grants of every agent,
 * department and group. Pure: management routes load the graph, apply a proposed change to
 * a copy, and ask `reviewChange` whether the actor may make it — before anything is written.
 */
import { isAdministrator, type Permission } from "./permissions.ts";

export type GrantSubjectType = "agent" | "department" | "group";

/** An agent's place in the graph. Agents without a department belong to `general`. */
export interface GrantGraphAgent {
  id: string;
  disabled: boolean;
  departments: string[];
  groups: string[];
}

export interface GrantGraph {
  agents: Map<string, GrantGraphAgent>;
  /** Keyed by `subjectKey(type, id)`. */
  grants: Map<string, Set<Permission>>;
}

/** The key of a subject's grant set. */
export function subjectKey(type: GrantSubjectType, id: string): string {
  return `${type}:${id}`;
}

/** A deep copy, to which a proposed change is applied. */
export function cloneGraph(graph: GrantGraph): GrantGraph {
  return {
    agents: new Map(
      [...graph.agents].map(([id, a]) => [
        id,
        { ...a, departments: [...a.departments], groups: [...a.groups] },
      ]),
    ),
    grants: new Map([...graph.grants].map(([key, set]) => [key, new Set(set)])),
  };
}

/** The union of an agent's own, departments' and groups' grants (empty when unknown). */
export function effectivePermissions(graph: GrantGraph, agentId: string): Set<Permission> {
  const agent = graph.agents.get(agentId);
  const held = new Set<Permission>();
  if (!agent) return held;
  const departments = agent.departments.length > 0 ? agent.departments : ["general"];
  const keys = [
    subjectKey("agent", agent.id),
    ...departments.map((id) => subjectKey("department", id)),
    ...agent.groups.map((id) => subjectKey("group", id)),
  ];
  for (const key of keys) for (const p of graph.grants.get(key) ?? []) held.add(p);
  return held;
}

/** Enabled agents that hold every permission. */
export function activeAdministrators(graph: GrantGraph): string[] {
  return [...graph.agents.values()]
    .filter((a) => !a.disabled && isAdministrator(effectivePermissions(graph, a.id)))
    .map((a) => a.id);
}

export type ChangeReview =
  | { ok: true }
  /** The change would give or take permissions the actor does not hold. */
  | { ok: false; reason: "beyond_actor"; permissions: Permission[] }
  /** The change would leave no enabled administrator. */
  | { ok: false; reason: "last_administrator" };

/**
 * Reviews `after` against `before`: every permission that appears or disappears — in a
 * subject's grant set or in any agent's effective set — must be one the actor holds, and at
 * least one enabled administrator must remain.
 */
export function reviewChange(
  before: GrantGraph,
  after: GrantGraph,
  actor: ReadonlySet<Permission>,
): ChangeReview {
  const changed = new Set<Permission>();
  const keys = new Set([...before.grants.keys(), ...after.grants.keys()]);
  for (const key of keys) {
    symmetricDifference(before.grants.get(key), after.grants.get(key), changed);
  }
  const agentIds = new Set([...before.agents.keys(), ...after.agents.keys()]);
  for (const id of agentIds) {
    symmetricDifference(effectivePermissions(before, id), effectivePermissions(after, id), changed);
  }
  const beyond = [...changed].filter((p) => !actor.has(p)).sort();
  if (beyond.length > 0) return { ok: false, reason: "beyond_actor", permissions: beyond };
  if (activeAdministrators(before).length > 0 && activeAdministrators(after).length === 0) {
    return { ok: false, reason: "last_administrator" };
  }
  return { ok: true };
}

function symmetricDifference(
  a: ReadonlySet<Permission> | undefined,
  b: ReadonlySet<Permission> | undefined,
  into: Set<Permission>,
): void {
  for (const p of a ?? []) if (!b?.has(p)) into.add(p);
  for (const p of b ?? []) if (!a?.has(p)) into.add(p);
}
