/**
 * CSRF (issue 6 item 5): besides SameSite=Strict, every state-changing route checks the
 * Origin. Generated from the app's routes, so a new POST/PUT/PATCH/DELETE route without the
 * check fails here. A foreign Origin, and a missing one, get 403 `origin_denied` even with a
 * valid administrator session.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import { login, ORIGIN, seedAgent } from "./helpers.ts";

const changing = [
  ...new Map(
    createApp()
      .routes.filter(
        (r) => r.path.startsWith("/api/") && ["POST", "PUT", "PATCH", "DELETE"].includes(r.method),
      )
      .map((r) => [`${r.method} ${r.path}`, r] as const),
  ).values(),
];

describe("Origin check on every state-changing route", () => {
  it("covers the routes", () => {
    expect(changing.length).toBeGreaterThan(20);
  });

  it.each(changing.map((r) => [r.method, r.path] as const))(
    "%s %s refuses a foreign or missing Origin",
    async (method, path) => {
      const admin = await seedAgent({ groups: ["administrators"] });
      const cookie = await login(admin.email);
      const url = `${ORIGIN}${path.replace(/:[a-z]+/gi, "00000000-0000-4000-8000-000000000000")}`;
      for (const origin of ["https://evil.example", undefined]) {
        const res = await SELF.fetch(url, {
          method,
          headers: {
            cookie,
            "content-type": "application/json",
            ...(origin ? { origin } : {}),
          },
          body: "{}",
        });
        expect(res.status, `${origin}`).toBe(403);
        expect(await res.json()).toMatchObject({ error: { code: "origin_denied" } });
      }
    },
  );
});
