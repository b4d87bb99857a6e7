/**
 * The console's side of the one-time password link, in headless Chromium against
 * `wrangler dev`: the admin CLI issues the link, the console takes the token out of the
 * address bar, shows the server's policy errors, sets the password (which then signs in),
 * and a used link is refused.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/wrangler.ts";
import { launchBrowser, watchPage } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

const execFileAsync = promisify(execFile);

let server: DevServer;
let browser: Browser;
const problems: string[] = [];
const contexts: BrowserContext[] = [];

/** Watches a page for problems (see watchPage). */
function watch(page: Page, name: string, expected: string[] = []): Page {
  return watchPage(page, name, problems, expected);
}

async function openPage(name: string, url: string, expected: string[] = []): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = watch(await context.newPage(), name, expected);
  await page.goto(url);
  return page;
}

/** Issues a reset link with the real admin CLI, as an administrator does. */
async function issueResetLink(email: string): Promise<string> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      "scripts/admin.ts",
      "reset-password",
      "--email",
      email,
      "--persist-to",
      server.persistTo,
      "--url",
      server.origin,
    ],
    { cwd: PROJECT_ROOT },
  );
  const link = /(\S+\/console\/#reset=[A-Za-z0-9_-]{43})\s*$/m.exec(stdout)?.[1];
  if (!link) throw new Error(`no reset link in the CLI's output:\n${stdout}`);
  return link;
}

async function choose(page: Page, password: string, repeat = password): Promise<void> {
  await page.getByTestId("reset-new").fill(password);
  await page.getByTestId("reset-repeat").fill(repeat);
  await page.getByTestId("reset-submit").click();
}

describe("console password reset link in Chromium", () => {
  beforeAll(async () => {
    browser = await launchBrowser();
    server = await startDevServer();
  });
  afterAll(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await server?.stop();
    await browser?.close();
  });

  it("sets a new password from the CLI's one-time link, once", async () => {
    const email = "rita@example.com";
    await server.createAgent({ email, name: "Rita Agent", password: "old reset passphrase 7" });
    const link = await issueResetLink(email);
    expect(link.startsWith(`${server.origin}/console/#reset=`)).toBe(true);

    const page = await openPage("reset", link, ["400 /api/auth/password/reset"]);
    await page.getByTestId("reset-form").waitFor({ state: "visible" });
    // The token left the address bar (and the history entry) at once.
    expect(page.url()).toBe(`${server.origin}/console/`);
    expect(await page.evaluate(() => location.hash)).toBe("");

    // The client's own checks.
    await choose(page, "short one", "short one");
    expect(await page.getByTestId("reset-error").textContent()).toContain("at least 12");
    await choose(page, "a long enough passphrase", "a different passphrase");
    expect(await page.getByTestId("reset-error").textContent()).toContain("do not match");

    // The server's policy, which the console cannot know all of: the agent's own name.
    await choose(page, "rita agent is my secret phrase");
    await page
      .getByTestId("reset-error")
      .filter({ hasText: "The password must not contain your name or email address." })
      .waitFor({ state: "visible" });

    const fresh = "brand new reset passphrase 9";
    await choose(page, fresh);
    await page.getByTestId("login-email").waitFor({ state: "visible" });
    // Good news is a polite status, not an alert in the danger colour.
    const news = page.getByTestId("status-notice");
    expect(await news.textContent()).toBe("Your password is set. Sign in with it.");
    expect(await news.getAttribute("role")).toBe("status");
    expect(await page.getByTestId("notice").isHidden()).toBe(true);
    expect(await page.getByTestId("reset-form").count()).toBe(0);

    await page.getByTestId("login-email").fill(email);
    await page.getByTestId("login-password").fill(fresh);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("agent-name").waitFor({ state: "visible" });
    expect(await page.getByTestId("agent-name").textContent()).toBe("Rita Agent");
    expect(await news.isHidden()).toBe(true);

    // The link is spent.
    const again = await openPage("reuse", link, ["400 /api/auth/password/reset"]);
    expect(again.url()).toBe(`${server.origin}/console/`);
    await choose(again, "yet another reset passphrase 3");
    await again.getByTestId("reset-sign-in").waitFor({ state: "visible" });
    expect(await again.getByTestId("reset-error").textContent()).toBe(
      "This link is invalid, used or expired.",
    );
    await again.getByTestId("reset-sign-in").click();
    await again.getByTestId("login-email").waitFor({ state: "visible" });
    expect(problems).toEqual([]);
  }, 120_000);
});
