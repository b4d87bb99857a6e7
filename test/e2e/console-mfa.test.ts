/**
 * The console's side of two-factor authentication, in headless Chromium against
 * `wrangler dev`: enrolment from the workspace dialog (secret, link, recovery codes shown
 * once), the code step of the sign-in form, a recovery code accepted once, re-authentication
 * when the sign-in is old, turning it off, and a deployment with `MFA_REQUIRED=true` where
 * enrolment is all a new agent can do.
 *
 * The tests compute TOTP codes as an authenticator app would. The server accepts each time
 * step once, and enrolment spends the current one: the next code is taken 30 s ahead (the
 * server allows one step of drift). Failed attempts here stay well under the CAPTCHA
 * threshold of the per-IP counter.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTotp } from "../../src/security/totp.ts";
import { launchBrowser, signIn, watchPage } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

let server: DevServer;
let browser: Browser;
const PASSWORD = "console mfa passphrase 7";
const problems: string[] = [];
/** Open browser contexts, closed before their server stops (else their sockets complain). */
const contexts: BrowserContext[] = [];

const RECOVERY_CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/;

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

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByTestId("mfa-code").fill(code);
  await page.getByTestId("mfa-submit").click();
}

/** Makes the agent's sessions look signed in 10 minutes ago (re-authentication is then due). */
async function ageSessions(email: string): Promise<void> {
  await server.query(
    `UPDATE sessions SET authenticated_at = authenticated_at - 600000
     WHERE agent_id = (SELECT id FROM agents WHERE email = '${email}')`,
  );
}

async function logOut(page: Page): Promise<void> {
  await page.getByTestId("logout").click();
  await page.getByTestId("login-email").waitFor();
}

/** A 6-digit code that is none of the codes valid around now. */
async function wrongCode(secret: string): Promise<string> {
  const now = Date.now();
  const valid = new Set(
    await Promise.all(
      [-60_000, -30_000, 0, 30_000, 60_000].map((d) => generateTotp(secret, { now: now + d })),
    ),
  );
  let code = 123456;
  while (valid.has(String(code))) code += 1;
  return String(code);
}

/**
 * Goes through the setup shown in `mfa-setup` as an agent with an app would: reads the key,
 * enters the current code, and returns the secret and the recovery codes shown (the "I have
 * saved them" button is left to the caller).
 */
async function enrol(page: Page): Promise<{ secret: string; codes: string[] }> {
  const setup = page.getByTestId("mfa-setup");
  const shown = (await setup.getByTestId("mfa-secret").textContent()) ?? "";
  expect(shown).toMatch(/^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
  const secret = shown.replace(/ /g, "");
  const uri = setup.getByTestId("mfa-uri");
  expect(await uri.getAttribute("href")).toMatch(
    new RegExp(`^otpauth://totp/Parley:[^?]+\\?secret=${secret}&issuer=Parley`),
  );
  expect(await uri.textContent()).toBe(await uri.getAttribute("href"));

  // A typo is caught in the browser; a wrong code by the server.
  await setup.getByTestId("mfa-confirm-code").fill("12345");
  await setup.getByTestId("mfa-confirm").click();
  await setup.getByText("Enter the 6-digit code your app shows.").waitFor();
  await setup.getByTestId("mfa-confirm-code").fill(await wrongCode(secret));
  await setup.getByTestId("mfa-confirm").click();
  await setup.getByText("That code is not valid").waitFor();

  await setup.getByTestId("mfa-confirm-code").fill(await generateTotp(secret));
  await setup.getByTestId("mfa-confirm").click();
  const items = setup.getByTestId("mfa-recovery-codes").locator("li");
  await expect.poll(() => items.count()).toBe(10);
  const codes = await items.allTextContents();
  for (const code of codes) expect(code).toMatch(RECOVERY_CODE);
  expect(new Set(codes).size).toBe(10);
  await setup.getByText("Save these codes now; each works once.").waitFor();
  return { secret, codes };
}

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("two-factor authentication in the console", () => {
  beforeAll(async () => {
    server = await startDevServer({ vars: { ALTCHA_MAX_COUNTER: "50" } });
  });
  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await server?.stop();
  });

  it("enrols from the workspace dialog, then asks for the code at sign-in", async () => {
    const email = "mia@example.com";
    await server.createAgent({ email, name: "Mia Agent", password: PASSWORD });
    const page = await openConsole("enrol", [
      "400 /api/auth/mfa/confirm",
      "409 /api/auth/mfa/setup",
      "403 /api/auth/mfa/setup",
      "401 /api/auth/reauth",
      "401 /api/auth/login",
    ]);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: server.origin,
    });
    await signIn(page, email, PASSWORD);
    await page.getByTestId("agent-name").filter({ hasText: "Mia Agent" }).waitFor();

    // Signed in 10 minutes ago: setting up a second factor first asks for the password again.
    await ageSessions(email);
    await page.getByTestId("open-mfa").click();
    const dialog = page.locator("#mfa-dialog");
    await dialog.getByTestId("reauth-form").waitFor();
    expect(await dialog.getByTestId("reauth-code").isHidden()).toBe(true);
    await dialog.getByTestId("reauth-password").fill("not the password at all");
    await dialog.getByTestId("reauth-submit").click();
    await dialog.getByTestId("reauth-error").filter({ hasText: "incorrect" }).waitFor();
    await dialog.getByTestId("reauth-password").fill(PASSWORD);
    await dialog.getByTestId("reauth-submit").click();
    await dialog.getByTestId("mfa-setup").getByTestId("mfa-secret").waitFor();
    const { secret, codes } = await enrol(page);
    await page.screenshot({ path: "test-results/console-mfa-codes.png" });
    await dialog.getByRole("button", { name: "Copy" }).click();
    await dialog.getByText("Copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join("\n"));
    await dialog.getByTestId("mfa-done").click();
    await dialog.waitFor({ state: "hidden" });
    // The codes leave the page with the dialog (its close event clears it, just after hiding).
    await page.getByTestId("mfa-recovery-codes").waitFor({ state: "detached" });

    // Enrolled now: the dialog offers to turn it off instead (learnt from the 409).
    await page.getByTestId("open-mfa").click();
    await dialog.getByTestId("mfa-disable").waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });

    await logOut(page);
    const logins: Record<string, unknown>[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/auth/login")) logins.push(request.postDataJSON());
    });
    await signIn(page, email, PASSWORD);
    await page.getByTestId("mfa-code").waitFor();
    await page
      .getByText("Enter the 6-digit code from your authenticator app, or a recovery code.")
      .waitFor();
    expect(await page.getByTestId("login-email").isHidden()).toBe(true);
    // The password lives in memory for the second attempt, not in the page.
    expect(await page.getByTestId("login-password").inputValue()).toBe("");
    expect(await page.getByTestId("mfa-error").isHidden()).toBe(true);

    await enterCode(page, await wrongCode(secret));
    const error = page.getByTestId("mfa-error");
    await error.filter({ hasText: "That code is not valid" }).waitFor();
    expect(await error.getAttribute("role")).toBe("alert");
    expect(await page.getByTestId("mfa-code").inputValue()).toBe("");
    await page.screenshot({ path: "test-results/console-mfa-login.png" });

    await enterCode(page, await generateTotp(secret, { now: Date.now() + 30_000 }));
    await page.getByTestId("agent-name").filter({ hasText: "Mia Agent" }).waitFor();
    expect(logins).toHaveLength(3);
    expect(logins[0]).toEqual({ email, password: PASSWORD });
    expect(logins[1]).toMatchObject({ email, password: PASSWORD, totp: expect.any(String) });
    expect(logins[2]).toMatchObject({ email, password: PASSWORD, totp: expect.any(String) });
    expect(problems).toEqual([]);
  });

  it("accepts a recovery code once at sign-in, and turns two-factor authentication off", async () => {
    const email = "noah@example.com";
    await server.createAgent({ email, name: "Noah Agent", password: PASSWORD });
    const page = await openConsole("recovery", [
      "400 /api/auth/mfa/confirm",
      "409 /api/auth/mfa/setup",
      "403 /api/auth/mfa/setup",
      "401 /api/auth/reauth",
      "401 /api/auth/login",
      "401 /api/auth/mfa/disable",
    ]);
    await signIn(page, email, PASSWORD);
    await page.getByTestId("agent-name").filter({ hasText: "Noah Agent" }).waitFor();
    await page.getByTestId("open-mfa").click();
    const { secret, codes } = await enrol(page);
    await page.getByTestId("mfa-done").click();
    await logOut(page);

    const [first = "", second = "", third = ""] = codes;
    await signIn(page, email, PASSWORD);
    // Typed the way people copy from paper: lower case.
    await enterCode(page, first.toLowerCase());
    await page.getByTestId("agent-name").filter({ hasText: "Noah Agent" }).waitFor();
    await logOut(page);

    await signIn(page, email, PASSWORD);
    await enterCode(page, first);
    await page.getByTestId("mfa-error").filter({ hasText: "That code is not valid" }).waitFor();
    // "Back" returns to email and password, and forgets them.
    await page.getByTestId("mfa-back").click();
    await page.getByTestId("login-email").waitFor();
    expect(await page.getByTestId("mfa-code").isHidden()).toBe(true);
    await signIn(page, email, PASSWORD);
    await enterCode(page, second);
    await page.getByTestId("agent-name").filter({ hasText: "Noah Agent" }).waitFor();

    // An old sign-in of an enrolled agent: the password, then a code, before the dialog opens.
    await ageSessions(email);
    await page.getByTestId("open-mfa").click();
    const dialog = page.locator("#mfa-dialog");
    await dialog.getByTestId("reauth-password").fill(PASSWORD);
    await dialog.getByTestId("reauth-submit").click();
    await dialog.getByTestId("reauth-code").waitFor();
    expect(await dialog.getByTestId("reauth-password").inputValue()).toBe(PASSWORD);
    await dialog
      .getByTestId("reauth-code")
      .fill(await generateTotp(secret, { now: Date.now() + 30_000 }));
    await dialog.getByTestId("reauth-submit").click();

    await dialog.getByTestId("mfa-disable-password").fill("not the password at all");
    await dialog.getByTestId("mfa-disable-code").fill("000000");
    await dialog.getByTestId("mfa-disable").click();
    await dialog.getByText("The password or code is incorrect.").waitFor();
    await dialog.getByTestId("mfa-disable-password").fill(PASSWORD);
    // The re-authentication spent the next time step: a recovery code turns it off.
    await dialog.getByTestId("mfa-disable-code").fill(third);
    await dialog.getByTestId("mfa-disable").click();
    await dialog.getByTestId("mfa-disabled").filter({ hasText: "is off" }).waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();

    // Off: the password alone signs in again.
    await logOut(page);
    await signIn(page, email, PASSWORD);
    await page.getByTestId("agent-name").filter({ hasText: "Noah Agent" }).waitFor();
    expect(problems).toEqual([]);
  });
});

describe("a deployment with MFA_REQUIRED=true", () => {
  beforeAll(async () => {
    server = await startDevServer({ vars: { MFA_REQUIRED: "true", ALTCHA_MAX_COUNTER: "50" } });
  });
  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await server?.stop();
  });

  it("shows a new agent only the enrolment, then the workspace", async () => {
    const email = "olga@example.com";
    await server.createAgent({ email, name: "Olga Agent", password: PASSWORD });
    const page = await openConsole("required", [
      "400 /api/auth/mfa/confirm",
      "409 /api/auth/mfa/setup",
      "403 /api/auth/mfa/disable",
    ]);
    const sockets: string[] = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));
    await signIn(page, email, PASSWORD);
    const view = page.locator("#mfa-view");
    await view.getByTestId("mfa-setup").getByTestId("mfa-secret").waitFor();
    for (const id of ["agent-name", "open-mfa", "open-sessions", "login-submit"]) {
      expect(await page.getByTestId(id).isHidden(), id).toBe(true);
    }
    expect(await page.locator("#workspace").isHidden()).toBe(true);
    await page.screenshot({ path: "test-results/console-mfa-required.png" });

    // A reload lands on the enrolment again (from /api/auth/me), with a fresh secret.
    await page.reload();
    await view.getByTestId("mfa-secret").waitFor();
    expect(sockets).toEqual([]);

    const { secret } = await enrol(page);
    await view.getByTestId("mfa-done").click();
    await page.getByTestId("agent-name").filter({ hasText: "Olga Agent" }).waitFor();
    expect(await view.isHidden()).toBe(true);
    await page.getByTestId("connection").filter({ hasText: "Connected" }).waitFor();
    const me = await page.request.get(`${server.origin}/api/auth/me`);
    expect(await me.json()).toMatchObject({ mfaEnrollmentRequired: false });

    // Required: it cannot be turned off.
    await page.getByTestId("open-mfa").click();
    const dialog = page.locator("#mfa-dialog");
    await dialog.getByTestId("mfa-disable-password").fill(PASSWORD);
    await dialog
      .getByTestId("mfa-disable-code")
      .fill(await generateTotp(secret, { now: Date.now() + 30_000 }));
    await dialog.getByTestId("mfa-disable").click();
    await dialog.getByText("Two-factor authentication is required for your account.").waitFor();
    expect(await dialog.getByTestId("mfa-disable").isDisabled()).toBe(true);
    expect(problems).toEqual([]);
  });
});
