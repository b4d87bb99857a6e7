/** Helpers for the live-visitor tests: presence sockets, the agents' list, invitations. */
import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { getVisitors, type Visitors } from "../../durable-objects/visitors.ts";
import type { LiveVisitor, LiveVisitorsResponse } from "../../src/protocol/visitors.ts";
import { apiRequest, login, mustOpen, seedAgent, type TestSocket } from "./helpers.ts";

export const PRESENCE = "/api/visitor/presence/ws";
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A presence socket, offering `token` from an earlier visit when given. */
export function presence(
  token?: string,
  headers: Record<string, string> = {},
): Promise<TestSocket> {
  const protocols = token ? `parley.v1, bearer.${token}` : "parley.v1";
  return mustOpen(PRESENCE, { "sec-websocket-protocol": protocols, ...headers });
}

/** A presence socket and its welcome frame. */
export async function visitor(token?: string, headers: Record<string, string> = {}) {
  const socket = await presence(token, headers);
  const welcome = (await socket.nextOfType("welcome")) as {
    visitorId: string;
    token: string;
    returning: boolean;
  };
  return { socket, ...welcome };
}

/** An agent holding exactly `grants` (default `visitors.invite`), signed in. */
export async function inviter(grants: string[] = ["visitors.invite"], departments: string[] = []) {
  const agent = await seedAgent({ groups: [], grants, departments });
  return { ...agent, cookie: await login(agent.email) };
}

/** `GET /api/visitors`, which must answer 200. */
export async function liveVisitors(cookie: string): Promise<LiveVisitorsResponse> {
  const res = await apiRequest("GET", "/api/visitors", cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** Polls the list until `visitorId` is there and matches. */
export async function listed(
  cookie: string,
  visitorId: string,
  match: (visitor: LiveVisitor) => boolean = () => true,
): Promise<LiveVisitor> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (await liveVisitors(cookie)).visitors.find((v) => v.visitorId === visitorId);
    if (found && match(found)) return found;
    if (Date.now() > deadline) throw new Error(`not listed as expected: ${JSON.stringify(found)}`);
    await sleep(100);
  }
}

/** `POST /api/visitors/:visitorId/invitations`, whatever it answers. */
export function invite(cookie: string, visitorId: string, body: Record<string, unknown> = {}) {
  return apiRequest("POST", `/api/visitors/${visitorId}/invitations`, cookie, body);
}

/** An invitation that must be sent (201). */
export async function invited(
  cookie: string,
  visitorId: string,
  body: Record<string, unknown> = {},
) {
  const res = await invite(cookie, visitorId, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<{ invitationId: string; expiresAt: number }>();
}

/** Runs SQL in the Visitors object's storage. */
export function objectSql(query: string, ...bindings: unknown[]) {
  return runInDurableObject(getVisitors(env), (_: Visitors, state) => {
    state.storage.sql.exec(query, ...bindings);
  });
}

/** Waits until the object recorded the visitor's departure (their last socket closed). */
export async function departed(visitorId: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const gone = await runInDurableObject(
      getVisitors(env),
      (_: Visitors, state) =>
        state.storage.sql
          .exec(
            "SELECT 1 FROM visitors WHERE visitor_id = ? AND departed_at IS NOT NULL",
            visitorId,
          )
          .toArray().length > 0,
    );
    if (gone) return;
    if (Date.now() > deadline) throw new Error("departure not recorded");
    await sleep(20);
  }
}

/** Makes a due item of the object due now and runs the alarm. */
export async function runDue(item: "departures" | "invitations"): Promise<void> {
  await runInDurableObject(getVisitors(env), async (instance: Visitors, state) => {
    state.storage.sql.exec("UPDATE due_items SET at = 0 WHERE item = ?", item);
    await instance.alarm();
  });
}
