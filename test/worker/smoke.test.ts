import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("answers /healthz", async () => {
  const res = await SELF.fetch("https://example.com/healthz");
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({
    status: "ok",
    d1: { ok: true },
    durableObjects: { ok: true },
    auditBacklog: 0,
  });
});
