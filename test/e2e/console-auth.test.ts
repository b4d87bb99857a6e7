/**
 * The console's side of login hardening, in headless Chromium against `wrangler dev`:
 * the CAPTCHA after repeated failures is solved by the console itself, an expired password
 * allows nothing but the change-password form, the sessions dialog revokes another session,
 * a locked account disables the form, a server out of reach is an alert (good news is a
 * polite status instead, see console-reset and console-desk), and a Turnstile deployment gets
 * a clear refusal.
 *
 * The dev server runs with `ALTCHA_MAX_COUNTER=50` so the proof of work takes milliseconds.
 * Node's `fetch` and Chromium both reach it from 127.0.0.1, so they share the per-IP failure
 * counter, which a success does not clear: each test starts by clearing it.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { solveAltchaChallenge } from "../../src/client/altcha.ts";
import type { AltchaChallenge } from "../../src/security/captcha.ts";
import { launchBrowser, signIn, watchPage } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

let server: DevServer;
let browser: Browser;
const PASSWORD = "console auth passphrase 5";
const problems: string[] = [];
/** Open browser contexts, closed before their server stops (else their sockets complain). */
const contexts: BrowserContext[] = [];

interface LoginAnswer {
  status: number;
  cookie: string;
  body: { error?: { code: string; details?: Record<string, unknown> } };
}

/** Logs in with Node's fetch (same IP as the browser: 127.0.0.1). */
async function apiLogin(email: string, password: string, captcha?: string): Promise<LoginAnswer> {
  const res = await fetch(`${server.origin}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.origin },
    body: JSON.stringify({ email, password, captcha }),
  });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { status: res.status, cookie, body: (await res.json()) as LoginAnswer["body"] };
}

/** Watches a page for problems (see watchPage). */
function watch(page: Page, name: string, expected: string[] = []): Page {
  return watchPage(page, name, problems, expected);
}

async function openConsole(name: string, expected: string[] = []): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = watch(await context.newPage(), name, expected);
  await page.goto(`${server.origin}/console/`);
  return page;
}

/** Solves a fresh ALTCHA challenge in Node, as the console does in the page. */
async function solveCaptcha(): Promise<string> {
  const res = await fetch(`${server.origin}/api/auth/captcha`);
  const { challenge } = (await res.json()) as { challenge: AltchaChallenge };
  return solveAltchaChallenge(challenge);
}

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("console login hardening in Chromium", () => {
  beforeAll(async () => {
    server = await startDevServer({ vars: { ALTCHA_MAX_COUNTER: "50" } });
  });
  // Every request here comes from 127.0.0.1, whose failure counter only decays after a day
  // (a success does not clear it): each test starts from a clean record for that IP, and
  // with no leftover problems from the one before.
  beforeEach(async () => {
    problems.length = 0;
    await server.query("DELETE FROM login_failures WHERE kind = 'ip'");
  });
  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await server?.stop();
  });

  it("solves the CAPTCHA transparently after five failed attempts", async () => {
    const email = "cara@example.com";
    await server.createAgent({ email, name: "Cara Agent", password: PASSWORD });
    let last: LoginAnswer | undefined;
    for (let i = 0; i < 5; i++) {
      last = await apiLogin(email, `not the password ${i}`);
      expect(last.status).toBe(401);
      expect(last.body.error?.code).toBe("invalid_credentials");
    }
    expect(last?.body.error?.details?.captchaRequired).toBe(true);
    // Even the right password is refused without a CAPTCHA now.
    const bare = await apiLogin(email, PASSWORD);
    expect(bare.body.error?.code).toBe("captcha_required");

    const page = await openConsole("captcha", ["401 /api/auth/login"]);
    // The status line may show for milliseconds only: record every text it ever shows.
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { captchaTexts: seen });
      const el = document.querySelector<HTMLElement>('[data-testid="captcha-status"]');
      const record = () => {
        const text = (el?.textContent ?? "").replace(/\s+/g, " ").trim();
        if (el && !el.hidden && text && seen.at(-1) !== text) seen.push(text);
      };
      if (el) {
        new MutationObserver(record).observe(el, {
          attributes: true,
          childList: true,
          characterData: true,
          subtree: true,
        });
      }
    });
    const logins: Record<string, unknown>[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/auth/login")) logins.push(request.postDataJSON());
    });

    await signIn(page, email, PASSWORD);
    await page.getByTestId("agent-name").filter({ hasText: "Cara Agent" }).waitFor();

    const texts = await page.evaluate(
      () => (window as unknown as { captchaTexts: string[] }).captchaTexts,
    );
    expect(texts).toContain("Checking you're not a robot…");
    // First try without a CAPTCHA (the console could not know), then once more with one.
    expect(logins).toHaveLength(2);
    expect(logins[0]).not.toHaveProperty("captcha");
    expect(logins[1]?.captcha).toEqual(expect.any(String));
    expect(await page.getByTestId("login-error").isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it("allows only a password change when the password has expired", async () => {
    const email = "dan@example.com";
    await server.createAgent({ email, name: "Dan Agent", password: PASSWORD });
    await server.query(`UPDATE agents SET password_changed_at = 0 WHERE email = '${email}'`);

    const page = await openConsole("expired", ["400 /api/auth/password"]);
    await signIn(page, email, PASSWORD);
    const form = page.getByTestId("password-form");
    await form.waitFor();
    expect(await page.getByTestId("agent-name").isHidden()).toBe(true);
    expect(await page.getByTestId("login-submit").isHidden()).toBe(true);
    expect(await page.getByTestId("open-sessions").isHidden()).toBe(true);
    const error = page.getByTestId("password-error");

    // Caught in the browser: the two new passwords differ.
    await page.getByTestId("password-current").fill(PASSWORD);
    await page.getByTestId("password-new").fill("a fresh long passphrase 42");
    await page.getByTestId("password-repeat").fill("a fresh long passphrase 43");
    await page.getByTestId("password-submit").click();
    await error.filter({ hasText: "do not match" }).waitFor();

    // Refused by the server's policy: long enough, but it contains the agent's name.
    await page.getByTestId("password-new").fill("dan picks a long password");
    await page.getByTestId("password-repeat").fill("dan picks a long password");
    await page.getByTestId("password-submit").click();
    await error.filter({ hasText: "must not contain your name or email" }).waitFor();
    expect(await error.getAttribute("role")).toBe("alert");
    await page.screenshot({ path: "test-results/console-password.png" });

    await page.getByTestId("password-new").fill("a fresh long passphrase 42");
    await page.getByTestId("password-repeat").fill("a fresh long passphrase 42");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("agent-name").filter({ hasText: "Dan Agent" }).waitFor();
    expect(await form.count()).toBe(0);
    const me = await page.request.get(`${server.origin}/api/auth/me`);
    expect(((await me.json()) as { passwordExpired: boolean }).passwordExpired).toBe(false);
    // The new password works; the old one does not.
    expect((await apiLogin(email, "a fresh long passphrase 42")).status).toBe(200);
    expect((await apiLogin(email, PASSWORD)).status).toBe(401);
    expect(problems).toEqual([]);
  });

  it("lists the agent's sessions and revokes another one", async () => {
    const email = "eve@example.com";
    await server.createAgent({ email, name: "Eve Agent", password: PASSWORD });
    const page = await openConsole("sessions");
    await signIn(page, email, PASSWORD);
    await page.getByTestId("agent-name").filter({ hasText: "Eve Agent" }).waitFor();
    const other = await apiLogin(email, PASSWORD);
    expect(other.status).toBe(200);

    await page.getByTestId("open-sessions").click();
    const items = page.getByTestId("sessions-list").getByTestId("session-item");
    await expect.poll(() => items.count()).toBe(2);
    expect(await page.locator('[data-testid="session-item"][data-current="true"]').count()).toBe(1);
    const revoke = page.getByTestId("revoke-session");
    expect(await revoke.count()).toBe(1);
    await page.screenshot({ path: "test-results/console-sessions.png" });
    await revoke.click();
    await expect.poll(() => items.count()).toBe(1);
    expect(await items.first().getAttribute("data-current")).toBe("true");

    // The revoked session is refused at once; ours still works.
    const revoked = await fetch(`${server.origin}/api/auth/me`, {
      headers: { cookie: other.cookie },
    });
    expect(revoked.status).toBe(401);
    expect((await page.request.get(`${server.origin}/api/auth/me`)).status()).toBe(200);
    expect(problems).toEqual([]);
  });

  it("disables sign-in while the account is locked", async () => {
    const email = "finn@example.com";
    await server.createAgent({ email, name: "Finn Agent", password: PASSWORD });
    let last: LoginAnswer | undefined;
    for (let i = 0; i < 10; i++) {
      last = await apiLogin(
        email,
        `not the password ${i}`,
        i >= 5 ? await solveCaptcha() : undefined,
      );
    }
    expect(last?.body.error?.code).toBe("account_locked");
    expect(last?.body.error?.details?.retryAfterSeconds).toBeGreaterThan(29 * 60);

    const page = await openConsole("lockout", ["401 /api/auth/login"]);
    await signIn(page, email, PASSWORD);
    const message = page.getByTestId("lockout-message");
    await message
      .filter({ hasText: "Too many failed attempts. Try again in 30 minutes." })
      .waitFor();
    expect(await message.getAttribute("role")).toBe("alert");
    expect(await page.getByTestId("login-submit").isDisabled()).toBe(true);
    expect(await page.getByTestId("agent-name").isHidden()).toBe(true);
    await page.screenshot({ path: "test-results/console-lockout.png" });
    expect(problems).toEqual([]);
  });

  it("shows a server out of reach as an alert, then the sign-in form", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = watch(await context.newPage(), "offline");
    // The network drops the console's first request (the outside world failing, not our code).
    await page.route("**/api/auth/me", (route) => route.abort("internetdisconnected"));
    await page.goto(`${server.origin}/console/`);
    const alert = page.getByTestId("notice");
    await alert.waitFor({ state: "visible" });
    expect(await alert.textContent()).toBe("Network error. Check your connection and try again.");
    expect(await alert.getAttribute("role")).toBe("alert");
    expect(await page.getByTestId("status-notice").isHidden()).toBe(true);
    await page.getByTestId("login-email").waitFor({ state: "visible" });
    expect(problems).toEqual([]);
  });
});

describe("a deployment with Turnstile", () => {
  beforeAll(async () => {
    server = await startDevServer({
      vars: {
        CAPTCHA_PROVIDER: "turnstile",
        TURNSTILE_SITE_KEY: "1x00000000000000000000AA",
        TURNSTILE_SECRET: "1x0000000000000000000000000000000AA",
      },
    });
  });
  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await server?.stop();
  });

  it("tells the agent this console cannot show its CAPTCHA, and loads no third-party script", async () => {
    const email = "gus@example.com";
    await server.createAgent({ email, name: "Gus Agent", password: PASSWORD });
    for (let i = 0; i < 5; i++) await apiLogin(email, `not the password ${i}`);

    const page = await openConsole("turnstile", ["401 /api/auth/login"]);
    const origins = new Set<string>();
    page.on("request", (request) => origins.add(new URL(request.url()).origin));
    await signIn(page, email, PASSWORD);
    await page
      .getByTestId("login-error")
      .filter({ hasText: "CAPTCHA provider not supported by this console build" })
      .waitFor();
    expect(await page.getByTestId("login-submit").isDisabled()).toBe(true);
    expect([...origins]).toEqual([server.origin]);
    expect(problems).toEqual([]);
  });
});
