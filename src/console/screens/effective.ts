/**
 * The effective-permission preview: what an agent would hold with the departments, groups
 * and own grants being edited, before anything is saved. The set itself comes from the
 * server's own rule (`effectivePermissions` of the grant graph); this module only adds where
 * each permission comes from, for the person reading the preview.
 */
import type { ManagedSubject } from "../../protocol/management.ts";
import { effectivePermissions, type GrantGraph, subjectKey } from "../../security/grant-graph.ts";
import type { Permission } from "../../security/permissions.ts";

/** The agent as being edited. */
export interface Assignment {
  grants: readonly Permission[];
  departments: readonly string[];
  groups: readonly string[];
}

const PREVIEW_ID = "preview";

/** Each effective permission with its sources (`own grant`, `department X`, `group Y`). */
export function effectiveSources(
  agent: Assignment,
  departments: readonly ManagedSubject[],
  groups: readonly ManagedSubject[],
): Map<Permission, string[]> {
  const graph: GrantGraph = {
    agents: new Map([
      [
        PREVIEW_ID,
        {
          id: PREVIEW_ID,
          disabled: false,
          departments: [...agent.departments],
          groups: [...agent.groups],
        },
      ],
    ]),
    grants: new Map([[subjectKey("agent", PREVIEW_ID), new Set(agent.grants)]]),
  };
  const subjects: { key: string; label: string; grants: readonly Permission[] }[] = [
    { key: subjectKey("agent", PREVIEW_ID), label: "own grant", grants: agent.grants },
  ];
  for (const d of departments) {
    graph.grants.set(subjectKey("department", d.id), new Set(d.grants));
    subjects.push({
      key: subjectKey("department", d.id),
      label: `department ${d.name}`,
      grants: d.grants,
    });
  }
  for (const g of groups) {
    graph.grants.set(subjectKey("group", g.id), new Set(g.grants));
    subjects.push({ key: subjectKey("group", g.id), label: `group ${g.name}`, grants: g.grants });
  }
  const held = effectivePermissions(graph, PREVIEW_ID);
  // A subject counts as a source only when the agent is in it: the graph decided which
  // (agents without a department are in `general`), so ask it one subject at a time.
  const member = new Set<string>();
  for (const s of subjects) {
    const only: GrantGraph = {
      agents: graph.agents,
      grants: new Map([[s.key, new Set(s.grants)]]),
    };
    if (s.grants.some((p) => effectivePermissions(only, PREVIEW_ID).has(p))) member.add(s.key);
  }
  const sources = new Map<Permission, string[]>();
  for (const p of held) {
    sources.set(
      p,
      subjects.filter((s) => member.has(s.key) && s.grants.includes(p)).map((s) => s.label),
    );
  }
  return sources;
}
