import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { solveAltchaChallenge } from "../../src/client/altcha.ts";
import { ORIGIN, PASSWORD, seedAgent } from "./helpers.ts";

const IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];

function attempt(email: string, password: string, ip: string, captcha?: string) {
  return SELF.fetch(`${ORIGIN}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": ip },
    body: JSON.stringify({ email, password, ...(captcha ? { captcha } : {}) }),
  });
}

async function solvedCaptcha(): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/captcha`);
  const body = await res.json<{
    provider: string;
    challenge: Parameters<typeof solveAltchaChallenge>[0];
  }>();
  expect(body.provider).toBe("altcha");
  return solveAltchaChallenge(body.challenge);
}

async function code(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("login hardening", () => {
  it("30 wrong passwords from 3 IPs: CAPTCHA from the 6th, lockout at the 10th, right password refused while locked, accepted after the window", async () => {
    const agent = await seedAgent();
    let firstCaptchaAt = 0;
    let lockedAt = 0;
    for (let n = 1; n <= 30; n++) {
      const ip = IPS[n % 3] ?? "";
      let res = await attempt(agent.email, `wrong password ${n}`, ip);
      let answer = await code(res);
      if (answer === "captcha_required") {
        firstCaptchaAt ||= n;
        res = await attempt(agent.email, `wrong password ${n}`, ip, await solvedCaptcha());
        answer = await code(res);
      }
      expect(res.status).toBe(401);
      if (answer === "account_locked") lockedAt ||= n;
      else expect(answer).toBe("invalid_credentials");
    }
    expect(firstCaptchaAt).toBe(6);
    expect(lockedAt).toBe(10);

    const refused = await attempt(agent.email, PASSWORD, IPS[0] ?? "", await solvedCaptcha());
    expect(refused.status).toBe(401);
    expect(await code(refused)).toBe("account_locked");

    // The lockout window (LOGIN_LOCKOUT_MINUTES) passes.
    await env.DB.prepare(
      "UPDATE login_failures SET locked_until = ?2 WHERE kind = 'account' AND key = ?1",
    )
      .bind(agent.email.toLowerCase(), Date.now() - 1)
      .run();
    const accepted = await attempt(agent.email, PASSWORD, IPS[0] ?? "");
    expect(accepted.status).toBe(200);

    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'auth.lockout' AND target = ?1",
    )
      .bind(agent.id)
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("treats an unknown account exactly like a known one (CAPTCHA and lockout too)", async () => {
    const answers: string[] = [];
    for (let n = 1; n <= 11; n++) {
      let res = await attempt("nobody-here@example.com", "whatever it is", "198.51.100.50");
      let answer = await code(res);
      if (answer === "captcha_required") {
        res = await attempt(
          "nobody-here@example.com",
          "whatever it is",
          "198.51.100.50",
          await solvedCaptcha(),
        );
        answer = await code(res);
      }
      answers.push(answer);
    }
    expect(answers.slice(0, 9).every((a) => a === "invalid_credentials")).toBe(true);
    expect(answers.slice(9)).toEqual(["account_locked", "account_locked"]);
  });

  it("demands a CAPTCHA per IP too, across accounts", async () => {
    const ip = "198.51.100.77";
    for (let n = 1; n <= 5; n++) {
      expect(await code(await attempt(`someone${n}@example.com`, "bad password", ip))).toBe(
        "invalid_credentials",
      );
    }
    const agent = await seedAgent();
    const res = await attempt(agent.email, PASSWORD, ip);
    expect(await code(res)).toBe("captcha_required");
    const ok = await attempt(agent.email, PASSWORD, ip, await solvedCaptcha());
    expect(ok.status).toBe(200);
  });

  it("refuses a replayed CAPTCHA solution and a forged one", async () => {
    const ip = "198.51.100.88";
    for (let n = 1; n <= 5; n++) await attempt("replay@example.com", "bad password", ip);
    const solution = await solvedCaptcha();
    expect(await code(await attempt("replay@example.com", "bad again", ip, solution))).toBe(
      "invalid_credentials",
    );
    expect(await code(await attempt("replay@example.com", "bad again", ip, solution))).toBe(
      "captcha_invalid",
    );
    expect(await code(await attempt("replay@example.com", "bad again", ip, btoa("{}")))).toBe(
      "captcha_invalid",
    );
    expect(
      await code(await attempt("replay@example.com", "bad again", ip, "not base64 at all!")),
    ).toBe("captcha_invalid");
  });

  it("resets the account's counter on success, but not the IP's (it decays after a day)", async () => {
    const agent = await seedAgent();
    for (let n = 1; n <= 4; n++) await attempt(agent.email, "bad password", "198.51.100.99");
    expect((await attempt(agent.email, PASSWORD, "198.51.100.99")).status).toBe(200);
    const rows = await env.DB.prepare(
      "SELECT kind, failures FROM login_failures WHERE key IN (?1, ?2)",
    )
      .bind(agent.email.toLowerCase(), "198.51.100.99")
      .all();
    // An attacker with one valid account cannot wipe the IP's record by logging in.
    expect(rows.results).toEqual([{ kind: "ip", failures: 4 }]);
  });

  it("never extends a lock with the failures made during it", async () => {
    const agent = await seedAgent();
    for (let n = 1; n <= 10; n++) {
      const ip = `198.51.100.${200 + n}`;
      const res = await attempt(agent.email, "bad password", ip);
      if ((await code(res)) === "captcha_required") {
        await attempt(agent.email, "bad password", ip, await solvedCaptcha());
      }
    }
    const lockedUntil = async () =>
      (
        await env.DB.prepare(
          "SELECT locked_until FROM login_failures WHERE kind = 'account' AND key = ?1",
        )
          .bind(agent.email.toLowerCase())
          .first<{ locked_until: number }>()
      )?.locked_until;
    const first = await lockedUntil();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await attempt(agent.email, "bad password", "198.51.100.250", await solvedCaptcha());
    expect(await lockedUntil()).toBe(first);
  });

  it("ends the open sessions of an account that gets locked", async () => {
    const agent = await seedAgent();
    const ok = await attempt(agent.email, PASSWORD, "198.51.100.120");
    const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    for (let n = 1; n <= 10; n++) {
      const ip = `198.51.100.${130 + n}`;
      const res = await attempt(agent.email, "bad password", ip);
      if ((await code(res)) === "captcha_required") {
        await attempt(agent.email, "bad password", ip, await solvedCaptcha());
      }
    }
    const me = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
  });
});
