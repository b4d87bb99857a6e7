/**
 * The console deployed apart from the API (issue 11): the built console, pointed at the API's
 * origin the way `CONSOLE_API_ORIGIN=… npm run build` does it, is served from a second origin
 * by a static host that applies its `_headers` as Pages does (`wrangler pages dev` cannot run
 * here beside the project's Worker configuration); the Worker lists that origin in
 * CONSOLE_ORIGINS. In Chromium an administrator signs in there, the presence socket
 * connects, a screen loads its data, and every API call goes to the API's origin with the
 * session cookie. Also the console's JavaScript budget (120 KB gzipped).
 */
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/worker-process.ts";
import { writeConsoleSite } from "../../scripts/lib/console-site.ts";
import { launchBrowser, seriousAxeViolations, signIn, watchPage } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import { serveStaticSite } from "../helpers/static-site.ts";

const PASSWORD = "e2e pages console passphrase 6";
let server: DevServer;
let pages: Server;
let site: string;
let consoleOrigin: string;
let browser: Browser;

beforeAll(async () => {
  const port = await freePort();
  consoleOrigin = `http://127.0.0.1:${port}`;
  server = await startDevServer({ vars: { CONSOLE_ORIGINS: consoleOrigin } });
  await server.createAgent({
    email: "admin@example.com",
    name: "Ada Admin",
    password: PASSWORD,
    role: "administrator",
  });
  // The built console, as `CONSOLE_API_ORIGIN=<the API> npm run build` writes it.
  site = await mkdtemp(path.join(tmpdir(), "parley-pages-"));
  await cp("dist/console", site, { recursive: true });
  await writeConsoleSite(site, await readFile("src/console/index.html", "utf8"), server.origin);
  pages = await serveStaticSite(site, port);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  pages?.close();
  await server?.stop();
  if (site) await rm(site, { recursive: true, force: true });
});

describe("the console on a second origin (Pages)", () => {
  it("serves Pages' security headers with connect-src naming only the API", async () => {
    const res = await fetch(`${consoleOrigin}/`);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`connect-src 'self' ${server.origin} ${server.wsOrigin}`);
    expect(csp).toContain("script-src 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(await res.text()).toContain(`content="${server.origin}"`);
  });

  it("signs in, connects and loads a screen across origins with the session cookie", async () => {
    const problems: string[] = [];
    const page = watchPage(await browser.newPage(), "pages console", problems);
    const apiCalls: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith("/api/")) apiCalls.push(url.origin);
    });
    await page.goto(`${consoleOrigin}/`);
    await page.getByTestId("login-email").waitFor();
    expect(await seriousAxeViolations(page, "#login-view")).toEqual([]);
    await signIn(page, "admin@example.com", PASSWORD);
    await page.getByTestId("logout").waitFor();
    await page.getByText("Connected", { exact: true }).waitFor();
    await page.goto(`${consoleOrigin}/#/agents`);
    await page.getByText("Ada Admin").first().waitFor();
    expect(apiCalls.length).toBeGreaterThan(2);
    expect(new Set(apiCalls)).toEqual(new Set([server.origin]));
    expect(problems).toEqual([]);
  });

  it("keeps the console's JavaScript within 120 KB gzipped", async () => {
    const gzipped = gzipSync(await readFile("dist/console/console.js"), { level: 9 }).length;
    console.log(`console.js: ${gzipped} bytes gzipped (budget ${120 * 1024})`);
    expect(gzipped).toBeLessThanOrEqual(120 * 1024);
  });
});
