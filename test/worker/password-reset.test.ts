import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashToken, randomToken } from "../../src/security/tokens.ts";
import { login, ORIGIN, PASSWORD, postJson, seedAgent } from "./helpers.ts";

const NEW_PASSWORD = "reset to this passphrase 77";

/** Issues a reset token the way the admin CLI does (only its hash is stored). */
async function issueToken(agentId: string, expiresInMs = 30 * 60_000): Promise<string> {
  const token = randomToken();
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO password_tokens (token_hash, agent_id, purpose, created_at, expires_at) VALUES (?1, ?2, 'reset', ?3, ?4)",
  )
    .bind(await hashToken(token), agentId, now, now + expiresInMs)
    .run();
  return token;
}

const reset = (token: string, newPassword = NEW_PASSWORD, ip = "198.51.100.5") =>
  postJson("/api/auth/password/reset", { token, newPassword }, { "cf-connecting-ip": ip });

describe("POST /api/auth/password/reset", () => {
  it("sets the new password, ends every session, lifts a lockout, and works once", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await env.DB.prepare(
      "INSERT INTO login_failures (kind, key, failures, last_failure, locked_until) VALUES ('account', ?1, 10, ?2, ?3)",
    )
      .bind(agent.email.toLowerCase(), Date.now(), Date.now() + 60_000)
      .run();
    const token = await issueToken(agent.id);
    const res = await reset(token);
    expect(res.status).toBe(200);
    expect((await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
    expect(await login(agent.email, NEW_PASSWORD)).toMatch(/^__Host-parley_session=/);
    const again = await reset(token, "yet another passphrase 88");
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { code: "invalid_token" } });
    const stored = await env.DB.prepare(
      "SELECT count(*) AS n FROM password_tokens WHERE token_hash = ?1",
    )
      .bind(token)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0); // the token itself is never stored, only its hash
  });

  it("refuses an expired or unknown token, and audits the attempt", async () => {
    const agent = await seedAgent();
    const expired = await issueToken(agent.id, -1);
    for (const token of [expired, randomToken()]) {
      const res = await reset(token, "a password for nobody 9", "203.0.113.55");
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_token" } });
    }
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'auth.password_reset' AND outcome = 'failure' AND ip = '203.0.113.55'",
    ).first<{ n: number }>();
    expect(audit?.n).toBe(2);
    expect(await login(agent.email)).toMatch(/^__Host-/);
  });

  it("does not spend the token on a refused password (policy or history)", async () => {
    const agent = await seedAgent();
    const token = await issueToken(agent.id);
    const weak = await reset(token, "password");
    expect(await weak.json()).toMatchObject({ error: { code: "password_policy" } });
    const reused = await reset(token, PASSWORD);
    expect(await reused.json()).toMatchObject({ error: { code: "password_reused" } });
    expect((await reset(token)).status).toBe(200);
  });

  it.each([
    ["a missing token", { newPassword: NEW_PASSWORD }],
    ["a short token", { token: "abc", newPassword: NEW_PASSWORD }],
    ["an oversized token", { token: "x".repeat(500), newPassword: NEW_PASSWORD }],
  ])("rejects %s with 400", async (_, body) => {
    const res = await postJson("/api/auth/password/reset", body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });
});
