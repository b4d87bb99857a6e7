/**
 * A desk for the console's browser tests: `wrangler dev` with Alice and Bob (agents, or
 * administrators) and Sue (a supervisor), one Chromium, and console pages signed in as any of
 * them. Call `setUp()` in `beforeAll` and `tearDown()` in `afterAll`.
 */
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { launchBrowser, signIn, watchPage } from "./browser.ts";
import { type DevServer, startDevServer } from "./dev-server.ts";

const PASSWORD = "e2e console desk passphrase 4";

export interface ConsoleDesk {
  server: DevServer;
  /** Agent ids by email. */
  ids: Record<string, string>;
  /** A blank page, its problems recorded (e.g. a visitor's, for the widget). */
  newPage(name: string, problems: string[]): Promise<Page>;
  /** A console page signed in as `email` and connected, its problems recorded. */
  consolePage(email: string, problems: string[]): Promise<Page>;
  tearDown(): Promise<void>;
}

/** Starts the server with the three accounts; `role` is Alice's and Bob's. */
export async function setUpConsoleDesk(role: "agent" | "administrator"): Promise<ConsoleDesk> {
  const server = await startDevServer();
  const ids: Record<string, string> = {};
  for (const [email, name, as] of [
    ["alice@example.com", "Alice Agent", role],
    ["bob@example.com", "Bob Agent", role],
    ["sue@example.com", "Sue Supervisor", "supervisor"],
  ] as const) {
    ids[email] = await server.createAgent({ email, name, role: as, password: PASSWORD });
  }
  const browser: Browser = await launchBrowser();
  const newPage = async (name: string, problems: string[]) =>
    watchPage(await browser.newPage(), name, problems);
  return {
    server,
    ids,
    newPage,
    async consolePage(email, problems) {
      const page = await newPage(email, problems);
      await page.goto(`${server.origin}/console/`);
      await signIn(page, email, PASSWORD);
      await expect.poll(() => page.getByTestId("connection").textContent()).toBe("Connected");
      return page;
    },
    async tearDown() {
      await browser.close();
      await server.stop();
    },
  };
}
