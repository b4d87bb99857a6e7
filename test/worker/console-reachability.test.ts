/**
 * The console reaches everything the backend guards (issue 11): generated from the Worker's
 * own route declarations and the socket action tables, every route that needs a permission
 * and every socket action or chat mode that needs one must be listed by some console screen
 * (`Screen.reaches`, or the workspace's list), every listed entry must exist, and each such
 * route must be on a screen that the holders of its permission are shown.
 */
import { describe, expect, it } from "vitest";
import { WORKSPACE_REACHES } from "../../src/console/workspace-reaches.ts";
import {
  CHAT_ACTIONS,
  CHAT_SOCKET_MODES,
  DISPATCHER_ACTIONS,
} from "../../src/security/action-permissions.ts";
import type { Permission } from "../../src/security/permissions.ts";
import { declaredRoutes } from "./declared-routes.ts";

/** Every socket entry, with the permission it needs (null: none beyond being signed in). */
const SOCKET_ENTRIES = new Map<string, Permission | null>([
  ...Object.entries(DISPATCHER_ACTIONS).map(([type, permission]): [string, Permission | null] => [
    `socket dispatcher:${type}`,
    permission,
  ]),
  ...Object.entries(CHAT_ACTIONS).flatMap(([type, rule]): [string, Permission | null][] =>
    rule.agent === false ? [] : [[`socket chat:${type}`, rule.agent]],
  ),
  ...Object.entries(CHAT_SOCKET_MODES).map(([mode, permission]): [string, Permission | null] => [
    `socket chat-mode:${mode}`,
    permission,
  ]),
]);

/** Every route, with the permissions that let an agent call it (null: not permission-guarded). */
const ROUTES = new Map(
  declaredRoutes().map((route): [string, Permission[] | null] => [
    `${route.method} ${route.path}`,
    route.access?.kind === "permission" ? route.access.anyOf : null,
  ]),
);

/** What this check needs of a console screen (src/console/screens/screen.ts). */
interface ScreenEntry {
  id: string;
  anyOf: Permission[];
  reaches: readonly string[];
}

// The screens are browser code (DOM types, hono/jsx/dom): loaded at run time through a
// specifier TypeScript does not follow, since this program is type-checked as the Worker's.
const SCREENS_MODULE = "../../src/console/screens/index.ts";
const { SCREENS } = (await import(/* @vite-ignore */ SCREENS_MODULE)) as {
  SCREENS: ScreenEntry[];
};

const reached = new Set([...WORKSPACE_REACHES, ...SCREENS.flatMap((screen) => screen.reaches)]);

describe("console reachability, generated from the route and action declarations", () => {
  it("reaches every permission-guarded route and socket action from some screen", () => {
    const guarded = [
      ...[...ROUTES].filter(([, anyOf]) => anyOf !== null).map(([entry]) => entry),
      ...[...SOCKET_ENTRIES].filter(([, permission]) => permission !== null).map(([e]) => e),
    ];
    expect(guarded.length).toBeGreaterThan(50);
    expect(guarded.filter((entry) => !reached.has(entry)).sort()).toEqual([]);
  });

  it("lists only routes and actions that exist (a typo would hide a gap)", () => {
    const unknown = [...reached].filter(
      (entry) => !ROUTES.has(entry) && !SOCKET_ENTRIES.has(entry),
    );
    expect(unknown).toEqual([]);
  });

  it("reaches each guarded route from a screen its permission holders are shown", () => {
    // A screen may offer a secondary action needing another permission (the agents screen's
    // capacity field): then some other screen must serve that permission's holders.
    const shownTo = [{ anyOf: [] as Permission[], reaches: WORKSPACE_REACHES }, ...SCREENS];
    const stranded = [...ROUTES].flatMap(([entry, needed]) => {
      if (needed === null || !reached.has(entry)) return [];
      const served = shownTo.some(
        (screen) =>
          screen.reaches.includes(entry) &&
          (screen.anyOf.length === 0 || needed.some((p) => screen.anyOf.includes(p))),
      );
      return served ? [] : [entry];
    });
    expect(stranded).toEqual([]);
  });

  it("gives every screen a unique id", () => {
    const seen = SCREENS.map((screen) => screen.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).not.toContain("workspace");
  });
});
