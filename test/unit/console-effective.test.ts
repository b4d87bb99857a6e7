/**
 * The console's effective-permission preview (src/console/screens/effective.ts): the set is
 * the grant graph's own union, and each permission names the subjects it comes from — only
 * subjects the agent is in, with agents without a department counted in `general`.
 */
import { describe, expect, it } from "vitest";
import { effectiveSources } from "../../src/console/screens/effective.ts";
import type { ManagedSubject } from "../../src/protocol/management.ts";

const team = (id: string, grants: ManagedSubject["grants"]): ManagedSubject => ({
  id,
  name: id[0]?.toUpperCase() + id.slice(1),
  grants,
  members: 0,
});

const departments = [
  team("general", ["chats.accept"]),
  team("billing", ["reports.view", "chats.accept"]),
];
const groups = [
  team("supervisors", ["chats.monitor", "reports.view"]),
  team("auditors", ["audit.view"]),
];

describe("effectiveSources", () => {
  it("unites own, department and group grants, naming every source", () => {
    const sources = effectiveSources(
      { grants: ["bans.manage"], departments: ["billing"], groups: ["supervisors"] },
      departments,
      groups,
    );
    expect(Object.fromEntries(sources)).toEqual({
      "bans.manage": ["own grant"],
      "reports.view": ["department Billing", "group Supervisors"],
      "chats.accept": ["department Billing"],
      "chats.monitor": ["group Supervisors"],
    });
  });

  it("counts an agent without a department in general, and ignores teams they are not in", () => {
    const sources = effectiveSources(
      { grants: [], departments: [], groups: [] },
      departments,
      groups,
    );
    expect(Object.fromEntries(sources)).toEqual({ "chats.accept": ["department General"] });
  });

  it("is empty for an agent with nothing granted anywhere", () => {
    const sources = effectiveSources(
      { grants: [], departments: ["billing"], groups: [] },
      [team("billing", [])],
      [],
    );
    expect(sources.size).toBe(0);
  });
});
