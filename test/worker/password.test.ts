import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { accountFailures, login, ORIGIN, PASSWORD, seedAgent } from "./helpers.ts";

const NEW_PASSWORD = "a brand new passphrase 42";

function change(cookie: string, body: unknown) {
  return SELF.fetch(`${ORIGIN}/api/auth/password`, {
    method: "POST",
    headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Makes the agent's current password old enough to change (PASSWORD_MIN_AGE_HOURS). */
async function ageOfPassword(agentId: string, hours: number) {
  await env.DB.prepare("UPDATE agents SET password_changed_at = ?2 WHERE id = ?1")
    .bind(agentId, Date.now() - hours * 3_600_000)
    .run();
}

describe("POST /api/auth/password", () => {
  it("changes the password, ends every other session and keeps this one", async () => {
    const agent = await seedAgent();
    await ageOfPassword(agent.id, 48);
    const other = await login(agent.email);
    const cookie = await login(agent.email);
    const res = await change(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(200);
    const me = (c: string) => SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie: c } });
    expect((await me(cookie)).status).toBe(200);
    expect((await me(other)).status).toBe(401);
    await expect(login(agent.email)).rejects.toThrow(/401/);
    expect(await login(agent.email, NEW_PASSWORD)).toMatch(/^__Host-parley_session=/);
    const audit = await env.DB.prepare(
      "SELECT outcome, details FROM audit_log WHERE action = 'auth.password_change' AND actor_id = ?1",
    )
      .bind(agent.id)
      .all<{ outcome: string; details: string | null }>();
    expect(audit.results).toEqual([{ outcome: "success", details: null }]);
  });

  it("needs the right current password, and counts a wrong one as a login failure", async () => {
    const agent = await seedAgent();
    await ageOfPassword(agent.id, 48);
    const cookie = await login(agent.email);
    const res = await change(cookie, {
      currentPassword: "wrong guess here",
      newPassword: NEW_PASSWORD,
    });
    expect(res.status).toBe(401);
    expect(await accountFailures(agent.email)).toBe(1);
  });

  it("refuses any change while the account is locked, and locks it after too many wrong guesses", async () => {
    const agent = await seedAgent();
    await ageOfPassword(agent.id, 48);
    const cookie = await login(agent.email);
    const other = await login(agent.email);
    const answers: string[] = [];
    for (let n = 1; n <= 11; n++) {
      const res = await change(cookie, {
        currentPassword: `guess number ${n}`,
        newPassword: NEW_PASSWORD,
      });
      answers.push(((await res.json()) as { error: { code: string } }).error.code);
      if (answers.at(-1) === "unauthenticated" || answers.at(-1) === "session_expired") break;
    }
    // The 10th wrong guess locks the account, which ends every session, this one included.
    expect(answers.slice(0, 9).every((a) => a === "invalid_credentials")).toBe(true);
    expect(answers[9]).toBe("account_locked");
    expect(answers[10]).toBe("session_expired");
    expect((await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie: other } })).status).toBe(
      401,
    );
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'auth.lockout' AND target = ?1",
    )
      .bind(agent.id)
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);

    // A session that survived into a lock (e.g. locked by login failures elsewhere) may
    // not change the password either, even with the right current one.
    const survivor = await seedAgent();
    await ageOfPassword(survivor.id, 48);
    const survivorCookie = await login(survivor.email);
    await env.DB.prepare(
      "INSERT INTO login_failures (kind, key, failures, last_failure, locked_until) VALUES ('account', ?1, 10, ?2, ?3)",
    )
      .bind(survivor.email.toLowerCase(), Date.now(), Date.now() + 60_000)
      .run();
    const locked = await change(survivorCookie, {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(await locked.json()).toMatchObject({ error: { code: "account_locked" } });
  });

  it.each([
    ["too short", "short1", "too_short"],
    ["common", "password1234", "common"],
    ["containing the email's local part", "agent-is-my-password", "contains_username"],
  ])("refuses a new password that is %s, naming the rule", async (_, newPassword, problem) => {
    const agent = await seedAgent();
    await ageOfPassword(agent.id, 48);
    const cookie = await login(agent.email);
    const candidate =
      problem === "contains_username" ? `${agent.email.split("@")[0]}-secret-x` : newPassword;
    const res = await change(cookie, { currentPassword: PASSWORD, newPassword: candidate });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; details: { problems: string[] } } }>();
    expect(body.error.code).toBe("password_policy");
    expect(body.error.details.problems).toContain(problem);
  });

  it("refuses the current password and the last ones (history of 4)", async () => {
    const agent = await seedAgent();
    const passwords = [
      PASSWORD,
      "second passphrase 222",
      "third passphrase 333",
      "fourth passphrase 444",
    ];
    let cookie = await login(agent.email);
    for (let i = 1; i < passwords.length; i++) {
      await ageOfPassword(agent.id, 48);
      const res = await change(cookie, {
        currentPassword: passwords[i - 1],
        newPassword: passwords[i],
      });
      expect(res.status).toBe(200);
    }
    await ageOfPassword(agent.id, 48);
    for (const old of passwords) {
      const res = await change(cookie, { currentPassword: passwords[3], newPassword: old });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "password_reused" } });
    }
    // The fifth-newest is allowed again once four newer ones exist.
    const res = await change(cookie, {
      currentPassword: passwords[3],
      newPassword: "fifth passphrase 555",
    });
    expect(res.status).toBe(200);
    cookie = await login(agent.email, "fifth passphrase 555");
    await ageOfPassword(agent.id, 48);
    const again = await change(cookie, {
      currentPassword: "fifth passphrase 555",
      newPassword: PASSWORD,
    });
    expect(again.status).toBe(200);
  });

  it("refuses a change within PASSWORD_MIN_AGE_HOURS of the last one", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const res = await change(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "password_too_recent" } });
  });

  it.each([
    ["a missing field", { currentPassword: PASSWORD }],
    ["a non-string password", { currentPassword: PASSWORD, newPassword: 12345678901234 }],
    ["an unknown field", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, force: true }],
  ])("rejects %s with 400", async (_, body) => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const res = await change(cookie, body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
  });
});

describe("expired passwords", () => {
  it("let the agent log in only to change the password", async () => {
    const agent = await seedAgent();
    await ageOfPassword(agent.id, 91 * 24);
    const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN },
      body: JSON.stringify({ email: agent.email, password: PASSWORD }),
    });
    expect(await res.json()).toMatchObject({ passwordExpired: true });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const socket = await SELF.fetch(`${ORIGIN}/api/agent/ws`, {
      headers: {
        cookie,
        origin: ORIGIN,
        upgrade: "websocket",
        "sec-websocket-protocol": "parley.v1",
      },
    });
    expect(socket.status).toBe(403);
    expect(await socket.json()).toMatchObject({ error: { code: "password_expired" } });
    const changed = await change(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ passwordExpired: false });
  });

  it("apply to a password an administrator set (must_change_password)", async () => {
    const agent = await seedAgent();
    await env.DB.prepare("UPDATE agents SET must_change_password = 1 WHERE id = ?1")
      .bind(agent.id)
      .run();
    const cookie = await login(agent.email);
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ passwordExpired: true });
    // No minimum age for a forced change.
    const changed = await change(cookie, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(200);
  });
});

describe("an agent's own sessions", () => {
  it("lists live sessions with device, IP and last seen, and revokes one", async () => {
    const agent = await seedAgent();
    const phone = await login(agent.email);
    const cookie = await login(agent.email);
    const list = await SELF.fetch(`${ORIGIN}/api/auth/sessions`, { headers: { cookie } });
    const { sessions } = await list.json<{
      sessions: { id: string; current: boolean; lastSeenAt: number }[];
    }>();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions[0]).toEqual(
      expect.objectContaining({ ip: null, userAgent: null, createdAt: expect.any(Number) }),
    );
    const other = sessions.find((s) => !s.current);
    const revoke = await SELF.fetch(`${ORIGIN}/api/auth/sessions/${other?.id}`, {
      method: "DELETE",
      headers: { cookie, origin: ORIGIN },
    });
    expect(revoke.status).toBe(200);
    expect((await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie: phone } })).status).toBe(
      401,
    );
  });

  it("cannot revoke another agent's session (answers 404 as for a missing one)", async () => {
    const a = await seedAgent();
    const b = await seedAgent();
    await login(a.email);
    const cookie = await login(b.email);
    const row = await env.DB.prepare("SELECT id FROM sessions WHERE agent_id = ?1")
      .bind(a.id)
      .first<{ id: string }>();
    const res = await SELF.fetch(`${ORIGIN}/api/auth/sessions/${row?.id}`, {
      method: "DELETE",
      headers: { cookie, origin: ORIGIN },
    });
    expect(res.status).toBe(404);
    const still = await env.DB.prepare("SELECT revoked_at FROM sessions WHERE id = ?1")
      .bind(row?.id)
      .first();
    expect(still).toEqual({ revoked_at: null });
  });
});

describe("sockets of an ended session", () => {
  it("are closed with 1008 at the next 5-second session check after logout (console and chat sockets)", async () => {
    const { acceptedChat, agentChatSocket } = await import("./helpers.ts");
    const chat = await acceptedChat();
    const chatSocket = await agentChatSocket(chat.chatId, chat.cookie);
    chatSocket.send({ type: "hello", lastSeq: 0 });
    await chatSocket.nextOfType("ready");
    const loggedOut = Date.now();
    await SELF.fetch(`${ORIGIN}/api/auth/logout`, {
      method: "POST",
      headers: { cookie: chat.cookie, origin: ORIGIN },
    });
    const [consoleClosed, chatClosed] = await Promise.all([
      chat.console.waitClosed(6_500),
      chatSocket.waitClosed(6_500),
    ]);
    expect(consoleClosed.code).toBe(1008);
    expect(chatClosed.code).toBe(1008);
    expect(Date.now() - loggedOut).toBeLessThan(6_500);
  });

  it("are closed when the agent is disabled behind the Worker's back (admin CLI)", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const { agentOnline } = await import("./helpers.ts");
    const console = await agentOnline(cookie);
    await env.DB.prepare("UPDATE agents SET disabled_at = ?2 WHERE id = ?1")
      .bind(agent.id, Date.now())
      .run();
    expect((await console.waitClosed(6_500)).code).toBe(1008);
  });
});
