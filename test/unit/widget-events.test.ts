import { describe, expect, it } from "vitest";
import { createEmitter, createUnread } from "../../src/widget/events.ts";

describe("the widget's page events", () => {
  it("calls each listener of an event in the order added, after the current task step", async () => {
    const emitter = createEmitter();
    const heard: string[] = [];
    emitter.on("message", (m) => heard.push(`a:${m.text}`));
    emitter.on("message", (m) => heard.push(`b:${m.text}`));
    emitter.on("open", () => heard.push("open"));
    emitter.emit("message", { text: "Hi", agent: "Bea", at: 1 });
    // Asynchronous: a listener cannot run in the middle of the widget's own update.
    expect(heard).toEqual([]);
    await Promise.resolve();
    expect(heard).toEqual(["a:Hi", "b:Hi"]);
  });

  it("ignores events nobody listens to", async () => {
    const emitter = createEmitter();
    expect(() => emitter.emit("close", undefined)).not.toThrow();
  });
});

describe("the unread count", () => {
  it("counts agent messages while the panel is closed and resets when it opens", () => {
    const counts: number[] = [];
    const unread = createUnread((n) => counts.push(n));
    unread.message();
    unread.message();
    unread.setOpen(true);
    unread.message(); // seen: the panel is open
    unread.setOpen(false);
    unread.message();
    expect(counts).toEqual([1, 2, 0, 1]);
  });

  it("reports changes only, never the same count twice", () => {
    const counts: number[] = [];
    const unread = createUnread((n) => counts.push(n));
    unread.setOpen(true);
    unread.setOpen(false);
    unread.setOpen(true);
    expect(counts).toEqual([]);
  });
});
