import { describe, expect, it } from "vitest";
import { type Candidate, pickAgent } from "../../durable-objects/routing.ts";

const agent = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  departments: ["general"],
  capacity: 5,
  load: 0,
  lastAssignedAt: 0,
  online: true,
  ...over,
});
const request = {
  department: "general",
  refusedBy: [],
  expiredFor: [],
  strategy: "least_busy" as const,
};

describe("pickAgent", () => {
  it("picks the least busy agent", () => {
    expect(pickAgent([agent("a", { load: 2 }), agent("b", { load: 1 })], request)).toBe("b");
  });

  it("breaks ties by the longest idle, then by id", () => {
    expect(
      pickAgent([agent("a", { lastAssignedAt: 20 }), agent("b", { lastAssignedAt: 10 })], request),
    ).toBe("b");
    expect(pickAgent([agent("b"), agent("a")], request)).toBe("a");
  });

  it("skips agents offline, at capacity or outside the department", () => {
    const candidates = [
      agent("off", { online: false }),
      agent("full", { load: 5 }),
      agent("sales", { departments: ["sales"] }),
    ];
    expect(pickAgent(candidates, request)).toBeNull();
  });

  it("never offers to an agent who refused", () => {
    expect(pickAgent([agent("a")], { ...request, refusedBy: ["a"] })).toBeNull();
  });

  it("offers again to an agent whose offer expired only when nobody else can take it", () => {
    const both = [agent("a"), agent("b", { load: 3 })];
    expect(pickAgent(both, { ...request, expiredFor: ["a"] })).toBe("b");
    expect(pickAgent([agent("a")], { ...request, expiredFor: ["a"] })).toBe("a");
  });

  it("round robin goes in turn, whatever the load, within capacity", () => {
    const robin = { ...request, strategy: "round_robin" as const };
    const busyButIdle = agent("a", { load: 4, lastAssignedAt: 10 });
    const freeButRecent = agent("b", { load: 0, lastAssignedAt: 20 });
    expect(pickAgent([busyButIdle, freeButRecent], robin)).toBe("a");
    // The same pair under least busy goes to the free agent.
    expect(pickAgent([busyButIdle, freeButRecent], request)).toBe("b");
    expect(pickAgent([agent("a", { load: 5, lastAssignedAt: 10 }), freeButRecent], robin)).toBe(
      "b",
    );
  });

  it("manual offers to nobody: agents pick from the queue", () => {
    expect(pickAgent([agent("a")], { ...request, strategy: "manual" })).toBeNull();
  });

  it("offers to the preferred agent first, whatever the strategy, load or department", () => {
    const invited = agent("z", { load: 4, departments: ["sales"] });
    const candidates = [agent("a"), invited];
    for (const strategy of ["least_busy", "round_robin", "manual"] as const) {
      expect(pickAgent(candidates, { ...request, strategy, preferredAgent: "z" })).toBe("z");
    }
  });

  it("routes as usual once the preferred agent cannot or will not take it", () => {
    const candidates = [agent("a"), agent("z", { load: 5 })];
    expect(pickAgent(candidates, { ...request, preferredAgent: "z" })).toBe("a");
    const free = [agent("a"), agent("z")];
    expect(pickAgent(free, { ...request, preferredAgent: "z", refusedBy: ["z"] })).toBe("a");
    expect(pickAgent(free, { ...request, preferredAgent: "z", expiredFor: ["z"] })).toBe("a");
    expect(pickAgent([agent("z", { online: false })], { ...request, preferredAgent: "z" })).toBe(
      null,
    );
  });
});
