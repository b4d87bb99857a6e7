import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { generateTotp } from "../../src/security/totp.ts";
import { accountFailures, login, PASSWORD, postJson, seedAgent } from "./helpers.ts";

const post = (path: string, cookie: string, body: unknown = {}) => postJson(path, body, { cookie });

async function ageAuthentication(agentId: string, minutes: number) {
  await env.DB.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE agent_id = ?1")
    .bind(agentId, Date.now() - minutes * 60_000)
    .run();
}

async function code(res: Response) {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("re-authentication before security-critical actions", () => {
  it("is demanded once the last proof is older than 5 minutes, and restored by the password", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await ageAuthentication(agent.id, 10);
    const refused = await post("/api/auth/mfa/setup", cookie);
    expect(refused.status).toBe(403);
    expect(await code(refused)).toBe("reauth_required");

    const wrong = await post("/api/auth/reauth", cookie, { password: "not my password" });
    expect(wrong.status).toBe(401);
    expect(await accountFailures(agent.email)).toBe(1);

    expect((await post("/api/auth/reauth", cookie, { password: PASSWORD })).status).toBe(200);
    expect((await post("/api/auth/mfa/setup", cookie)).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT outcome FROM audit_log WHERE action = 'auth.reauth' AND actor_id = ?1 ORDER BY id",
    )
      .bind(agent.id)
      .all();
    expect(audit.results).toEqual([{ outcome: "failure" }, { outcome: "success" }]);
  });

  it("asks an enrolled agent for a second factor too", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const { secret } = await (await post("/api/auth/mfa/setup", cookie)).json<{ secret: string }>();
    await post("/api/auth/mfa/confirm", cookie, { code: await generateTotp(secret) });
    expect(await code(await post("/api/auth/reauth", cookie, { password: PASSWORD }))).toBe(
      "mfa_required",
    );
    expect(
      await code(await post("/api/auth/reauth", cookie, { password: PASSWORD, totp: "000000" })),
    ).toBe("invalid_mfa_code");
    const next = await generateTotp(secret, { now: Date.now() + 30_000 });
    expect(
      (await post("/api/auth/reauth", cookie, { password: PASSWORD, totp: next })).status,
    ).toBe(200);
  });

  it.each([
    ["a missing password", {}],
    ["a non-string password", { password: 123 }],
    ["an unknown field", { password: PASSWORD, admin: true }],
  ])("rejects %s with 400", async (_, body) => {
    const agent = await seedAgent();
    const res = await post("/api/auth/reauth", await login(agent.email), body);
    expect(res.status).toBe(400);
  });
});
