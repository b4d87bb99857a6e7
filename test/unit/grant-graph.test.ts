import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activeAdministrators,
  cloneGraph,
  effectivePermissions,
  type GrantGraph,
  reviewChange,
  subjectKey,
} from "../../src/security/grant-graph.ts";
import {
  isAdministrator,
  isPermission,
  PERMISSION_IDS,
  PERMISSIONS,
  type Permission,
} from "../../src/security/permissions.ts";

function graph(): GrantGraph {
  return {
    agents: new Map([
      ["boss", { id: "boss", disabled: false, departments: [], groups: ["administrators"] }],
      ["ann", { id: "ann", disabled: false, departments: ["sales"], groups: ["agents"] }],
    ]),
    grants: new Map([
      [subjectKey("group", "administrators"), new Set(PERMISSION_IDS)],
      [subjectKey("group", "agents"), new Set<Permission>(["chats.accept"])],
      [subjectKey("department", "sales"), new Set<Permission>(["reports.view"])],
      [subjectKey("department", "general"), new Set<Permission>(["visitors.invite"])],
    ]),
  };
}

describe("permission catalogue", () => {
  it("has unique, stable ids with labels and descriptions", () => {
    expect(new Set(PERMISSION_IDS).size).toBe(PERMISSIONS.length);
    for (const p of PERMISSIONS) {
      expect(p.id).toMatch(/^[a-z_]+\.[a-z_]+$/);
      expect(p.label.length).toBeGreaterThan(3);
      expect(p.description.length).toBeGreaterThan(10);
    }
    expect(isPermission("audit.view")).toBe(true);
    expect(isPermission("audit.edit")).toBe(false);
  });

  it("covers every permission the issue names", () => {
    const required = [
      "chats.accept",
      "chats.refuse",
      "chats.join",
      "chats.transfer",
      "agent_chat.use",
      "chats.monitor",
      "visitors.invite",
      "transcripts.view_department",
      "transcripts.view_all",
      "transcripts.delete",
      "reports.view",
      "campaigns.manage",
      "canned_messages.manage",
      "bans.manage",
      "routing.manage",
      "security.manage",
      "agents.manage",
      "departments.manage",
      "groups.manage",
      "segments.manage",
      "variables.manage",
      "audit.view",
      "secure_form.view",
    ];
    for (const id of required) expect(PERMISSION_IDS).toContain(id);
  });
});

describe("effective permissions", () => {
  it("are the union of the agent's, departments' and groups' grants", () => {
    const g = graph();
    g.grants.set(subjectKey("agent", "ann"), new Set<Permission>(["audit.view"]));
    expect([...effectivePermissions(g, "ann")].sort()).toEqual([
      "audit.view",
      "chats.accept",
      "reports.view",
    ]);
  });

  it("give an agent without a department the grants of general", () => {
    const g = graph();
    g.agents.set("neo", { id: "neo", disabled: false, departments: [], groups: [] });
    expect([...effectivePermissions(g, "neo")]).toEqual(["visitors.invite"]);
    expect(effectivePermissions(g, "nobody").size).toBe(0);
  });

  it("make an administrator only of someone holding every permission", () => {
    expect(isAdministrator(new Set(PERMISSION_IDS))).toBe(true);
    expect(isAdministrator(new Set(PERMISSION_IDS.slice(1)))).toBe(false);
    expect(activeAdministrators(graph())).toEqual(["boss"]);
  });
});

describe("reviewChange", () => {
  it("refuses to give or take a permission the actor lacks, naming it", () => {
    const before = graph();
    const after = cloneGraph(before);
    after.grants.set(subjectKey("agent", "ann"), new Set<Permission>(["audit.view"]));
    const actor = new Set<Permission>(["agents.manage", "chats.accept"]);
    expect(reviewChange(before, after, actor)).toEqual({
      ok: false,
      reason: "beyond_actor",
      permissions: ["audit.view"],
    });
    const removal = cloneGraph(before);
    removal.agents.get("ann")?.groups.splice(0);
    expect(reviewChange(before, removal, actor)).toEqual({ ok: true });
    const departmentMove = cloneGraph(before);
    const ann = departmentMove.agents.get("ann");
    if (ann) ann.departments = ["general"];
    expect(reviewChange(before, departmentMove, actor)).toMatchObject({
      permissions: ["reports.view", "visitors.invite"],
    });
  });

  it("refuses to leave no enabled administrator", () => {
    const before = graph();
    const after = cloneGraph(before);
    const boss = after.agents.get("boss");
    if (boss) boss.disabled = true;
    expect(reviewChange(before, after, new Set(PERMISSION_IDS))).toEqual({
      ok: false,
      reason: "last_administrator",
    });
  });

  it("never lets a change through that grants beyond the actor (property)", () => {
    const permission = fc.constantFrom(...PERMISSION_IDS);
    fc.assert(
      fc.property(
        fc.uniqueArray(permission),
        fc.uniqueArray(permission),
        (actorList, newGrants) => {
          const before = graph();
          const after = cloneGraph(before);
          after.grants.set(subjectKey("agent", "ann"), new Set(newGrants));
          const actor = new Set(actorList);
          const review = reviewChange(before, after, actor);
          const gained = [...effectivePermissions(after, "ann")].filter(
            (p) => !effectivePermissions(before, "ann").has(p),
          );
          if (review.ok) for (const p of gained) expect(actor.has(p)).toBe(true);
          else if (review.reason === "beyond_actor") {
            expect(review.permissions.every((p) => !actor.has(p))).toBe(true);
          }
        },
      ),
    );
  });

  it("does not mutate the original when the copy changes", () => {
    const before = graph();
    const after = cloneGraph(before);
    after.grants.get(subjectKey("group", "agents"))?.add("audit.view");
    after.agents.get("ann")?.groups.push("administrators");
    expect(before.grants.get(subjectKey("group", "agents"))?.has("audit.view")).toBe(false);
    expect(before.agents.get("ann")?.groups).toEqual(["agents"]);
  });
});
