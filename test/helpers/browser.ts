/** Headless Debian Chromium through playwright-core (never a downloaded browser). */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium with the flags this offline machine needs. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * Records page errors, console errors, unexpected dialogs and HTTP errors in `problems`
 * (a test then asserts it is empty), except the answers listed in `expected`
 * (`"401 /api/auth/login"`); a 401 from /api/auth/me before login is always fine.
 */
export function watchPage(page: Page, name: string, problems: string[], expected: string[] = []) {
  page.on("pageerror", (error) => problems.push(`${name}: ${error.message}`));
  page.on("console", (message) => {
    // Failed requests are judged below by status and path.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`${name} console: ${message.text()}`);
    }
  });
  page.on("response", (response) => {
    const answer = `${response.status()} ${new URL(response.url()).pathname}`;
    if (response.status() >= 400 && answer !== "401 /api/auth/me" && !expected.includes(answer)) {
      problems.push(`${name}: ${answer}`);
    }
  });
  page.on("dialog", (dialog) => {
    problems.push(`${name}: unexpected dialog ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

/** Fills and submits the console's sign-in form. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

/**
 * Records every text frame `page` sends on its WebSockets, in order, from now on: what left
 * the browser (a masked message, a single secure-form submission), not what the UI shows.
 */
export function recordSentFrames(page: Page): string[] {
  const sent: string[] = [];
  page.on("websocket", (socket) => {
    socket.on("framesent", ({ payload }) => sent.push(String(payload)));
  });
  return sent;
}

/** Everything `page`'s origin holds in `sessionStorage` and `localStorage`, as one string. */
export async function storedText(page: Page): Promise<string> {
  return page.evaluate(() =>
    JSON.stringify([sessionStorage, localStorage].map((s) => Object.entries(s))),
  );
}

/**
 * Reports Content Security Policy violations of `page` (every document it loads) in
 * `problems`: `securitypolicyviolation` events, from the page and its open shadow roots, and
 * console messages of any level that mention the policy. Call before the first `goto`.
 */
export async function watchCsp(page: Page, name: string, problems: string[]): Promise<void> {
  await page.exposeFunction("__parleyCspViolation", (report: string) => {
    problems.push(`${name}: CSP violation ${report}`);
  });
  await page.addInitScript(() => {
    // Composed: a violation inside the widget's shadow root reaches the document too.
    document.addEventListener(
      "securitypolicyviolation",
      (event) => {
        const report = (window as unknown as { __parleyCspViolation(r: string): void })
          .__parleyCspViolation;
        report(
          `${event.effectiveDirective} blocked ${event.blockedURI || "(inline)"} ` +
            `${event.sample ? `sample ${JSON.stringify(event.sample)} ` : ""}at ${event.sourceFile}:${event.lineNumber}`,
        );
      },
      true,
    );
  });
  page.on("console", (message) => {
    if (/content[- ]security[- ]policy/i.test(message.text())) {
      problems.push(`${name} console ${message.type()}: ${message.text()}`);
    }
  });
}

/**
 * Elements that hostile text would have created if it had been parsed as HTML, in the page
 * and in every open shadow root: scripts without `src`, frames, objects, SVG, MathML, event
 * handler attributes, `javascript:` links, an `img` with the payloads' `src=x`. Also every
 * message element (`[data-testid$="message"]`, whose text is exactly the message) that holds
 * an element instead of text only. Returns descriptions; empty means inert.
 */
export function injectedMarkup(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const suspicious = [
      "script:not([src])",
      "script[src*='evil']",
      "img[src='x']",
      "img[src^='x:']",
      "iframe",
      "frame",
      "object",
      "embed",
      "svg",
      "math",
      "marquee",
      "video",
      "audio",
      "base",
      "meta[http-equiv]",
      "template",
      "noscript",
      "link[href*='evil']",
      "x",
      "[onerror]",
      "[onload]",
      "[onclick]",
      "[onfocus]",
      "[onmouseover]",
      "[onpointerover]",
      "[ontoggle]",
      "[onbegin]",
      "[onstart]",
      "a[href^='javascript' i]",
      "form[action^='javascript' i]",
    ].join(",");
    const found: string[] = [];
    const scan = (root: Document | ShadowRoot, where: string) => {
      for (const el of root.querySelectorAll(suspicious)) {
        found.push(`${where}: ${el.outerHTML.slice(0, 200)}`);
      }
      for (const el of root.querySelectorAll("[data-testid$='message']")) {
        if (el.childElementCount > 0)
          found.push(`${where}: markup in ${el.outerHTML.slice(0, 200)}`);
      }
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) scan(el.shadowRoot, `${where} #${el.id || el.tagName} shadow`);
      }
    };
    scan(document, location.pathname);
    if (document.querySelectorAll("#parley-widget").length > 1)
      found.push("a second #parley-widget");
    return found;
  });
}

/**
 * axe-core's serious and critical violations in the part of `page` that `selector` names.
 * axe is evaluated through the DevTools protocol, which a page's CSP does not govern (the
 * console forbids inline scripts, so a script tag would be refused).
 */
export async function seriousAxeViolations(page: Page, selector: string): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) {
    const require = createRequire(import.meta.url);
    await page.evaluate(await readFile(require.resolve("axe-core/axe.min.js"), "utf8"));
  }
  return page.evaluate(async (include) => {
    type Result = { id: string; impact?: string | null; nodes: { target: unknown }[] };
    const axe = (window as unknown as { axe: { run(c: object, o: object): Promise<object> } }).axe;
    const results = (await axe.run({ include: [include] }, { resultTypes: ["violations"] })) as {
      violations: Result[];
    };
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  }, selector);
}

/**
 * Saves a console screen for review (`test-results/console-<id>.png`, gitignored) and
 * returns axe-core's serious and critical violations in it (`#screen-root`).
 */
export async function reviewConsoleScreen(page: Page, id: string): Promise<string[]> {
  await page.screenshot({ path: `test-results/console-${id}.png`, fullPage: true });
  return seriousAxeViolations(page, "#screen-root");
}
