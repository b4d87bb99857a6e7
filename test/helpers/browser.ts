/** Headless Debian Chromium through playwright-core (never a downloaded browser). */
import { existsSync } from "node:fs";
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
