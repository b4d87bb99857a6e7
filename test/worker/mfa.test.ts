import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { generateTotp } from "../../src/security/totp.ts";
import { accountFailures, login, ORIGIN, PASSWORD, postJson, seedAgent } from "./helpers.ts";

const STEP = 30_000;

function post(path: string, cookie: string, body: unknown = {}) {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Enrols the agent; returns the secret and recovery codes. */
async function enrol(cookie: string) {
  const setup = await post("/api/auth/mfa/setup", cookie);
  expect(setup.status).toBe(200);
  const { secret, uri } = await setup.json<{ secret: string; uri: string }>();
  expect(uri).toMatch(/^otpauth:\/\/totp\/Parley:.+secret=/);
  const confirm = await post("/api/auth/mfa/confirm", cookie, { code: await generateTotp(secret) });
  expect(confirm.status).toBe(200);
  const { recoveryCodes } = await confirm.json<{ recoveryCodes: string[] }>();
  return { secret, recoveryCodes };
}

function loginWith(email: string, totp?: string) {
  return postJson("/api/auth/login", { email, password: PASSWORD, ...(totp ? { totp } : {}) });
}

async function code(res: Response) {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("TOTP multi-factor authentication", () => {
  it("once enrolled, login needs a code, and each code works once", async () => {
    const agent = await seedAgent();
    const { secret, recoveryCodes } = await enrol(await login(agent.email));
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);

    const missing = await loginWith(agent.email);
    expect(missing.status).toBe(401);
    expect(await code(missing)).toBe("mfa_required");
    // The step used to confirm is spent: the next step's code (within ±1 step) is accepted.
    const next = await generateTotp(secret, { now: Date.now() + STEP });
    expect((await loginWith(agent.email, next)).status).toBe(200);
    const replay = await loginWith(agent.email, next);
    expect(replay.status).toBe(401);
    expect(await code(replay)).toBe("invalid_mfa_code");
  });

  it("accepts each recovery code once, and never stores them in clear", async () => {
    const agent = await seedAgent();
    const { recoveryCodes } = await enrol(await login(agent.email));
    const [first = ""] = recoveryCodes;
    expect((await loginWith(agent.email, first.toLowerCase())).status).toBe(200);
    expect(await code(await loginWith(agent.email, first))).toBe("invalid_mfa_code");
    const stored = await env.DB.prepare(
      "SELECT code_hash FROM mfa_recovery_codes WHERE agent_id = ?1",
    )
      .bind(agent.id)
      .all<{ code_hash: string }>();
    expect(stored.results).toHaveLength(9);
    for (const row of stored.results) expect(recoveryCodes).not.toContain(row.code_hash);
  });

  it("counts a wrong code as a login failure", async () => {
    const agent = await seedAgent();
    await enrol(await login(agent.email));
    expect(await code(await loginWith(agent.email, "000000"))).toBe("invalid_mfa_code");
    expect(await accountFailures(agent.email)).toBe(1);
  });

  it("can be turned off with the password and a code, unless required", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const { secret } = await enrol(cookie);
    const wrong = await post("/api/auth/mfa/disable", cookie, {
      password: "not the password",
      code: "123456",
    });
    expect(wrong.status).toBe(401);
    const off = await post("/api/auth/mfa/disable", cookie, {
      password: PASSWORD,
      code: await generateTotp(secret, { now: Date.now() + STEP }),
    });
    expect(off.status).toBe(200);
    expect((await loginWith(agent.email)).status).toBe(200);
  });

  it("counts wrong answers when turning it off towards the lockout", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await enrol(cookie);
    const res = await post("/api/auth/mfa/disable", cookie, { password: PASSWORD, code: "000000" });
    expect(await code(res)).toBe("invalid_credentials");
    expect(await accountFailures(agent.email)).toBe(1);
  });

  it("rejects malformed codes with 400", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    await post("/api/auth/mfa/setup", cookie);
    for (const bad of ["abc", "1234567", "", 123456]) {
      const res = await post("/api/auth/mfa/confirm", cookie, { code: bad });
      expect(res.status).toBe(400);
    }
    const wrong = await post("/api/auth/mfa/confirm", cookie, { code: "000000" });
    expect(await code(wrong)).toBe("invalid_mfa_code");
  });
});

describe("MFA required by a department", () => {
  it("lets an unenrolled agent in only to enrol, and forbids turning it off", async () => {
    const department = `mfa-${crypto.randomUUID().slice(0, 8)}`;
    const agent = await seedAgent({ departments: [department] });
    await env.DB.prepare("UPDATE departments SET mfa_required = 1 WHERE id = ?1")
      .bind(department)
      .run();
    const res = await loginWith(agent.email);
    expect(await res.json()).toMatchObject({ mfaEnrollmentRequired: true, passwordExpired: false });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const socket = await SELF.fetch(`${ORIGIN}/api/agent/ws`, {
      headers: {
        cookie,
        origin: ORIGIN,
        upgrade: "websocket",
        "sec-websocket-protocol": "parley.v1",
      },
    });
    expect(await code(socket)).toBe("mfa_enrollment_required");
    const { secret } = await enrol(cookie);
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ mfaEnrollmentRequired: false });
    const off = await post("/api/auth/mfa/disable", cookie, {
      password: PASSWORD,
      code: await generateTotp(secret, { now: Date.now() + STEP }),
    });
    expect(await code(off)).toBe("mfa_required");
  });
});
