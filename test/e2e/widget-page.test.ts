/**
 * The widget as a guest on other people's pages, in headless Chromium against `wrangler dev`,
 * served from a customer's site on another origin (listed in WIDGET_ORIGINS, so the widget's
 * CORS and Origin checks are the real cross-site ones): a host page whose CSS attacks everything (`* { all: unset !important }`, huge fonts, hidden
 * divs and buttons) does not stop a chat; the widget's own styles change nothing on the host
 * page; axe-core finds no serious or critical violation in it; and `dist/widget.js` stays
 * within its gzipped size budget.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import {
  agentGets,
  agentSays,
  type DeskAgent,
  deskAgent,
  startWidgetChat,
  visitors as visitorsOf,
  widgetMessages,
  widgetViolations,
} from "../helpers/widget-fixtures.ts";

let server: DevServer;
let browser: Browser;
let agent: DeskAgent;
let site: Awaited<ReturnType<typeof customerSite>>;
const EMAIL = "hugo@example.com";
const PASSWORD = "widget page passphrase 8";
const visitors = visitorsOf(() => browser);
/** The budget, as scripts/build.ts enforces it. */
const BUDGET_GZIP_BYTES = 15 * 1024;

/** A host page that tries to break everything it can reach, the widget's host element included. */
const hostilePage = (
  widget: string,
) => `<!doctype html><html lang="en"><head><title>Hostile shop</title>
<style>
* { all: unset !important; }
html, body { display: block !important; font-size: 64px !important; line-height: 4 !important; }
div, section, form, button, input, textarea { display: none !important; }
div { visibility: hidden !important; pointer-events: none !important; opacity: 0 !important; }
*, *::before, *::after { font-family: "Comic Sans MS", cursive !important; color: #ff0 !important;
  letter-spacing: 1em !important; text-transform: uppercase !important; }
</style>
<script src="${widget}/widget.js" async></script></head>
<body><h1>Everything here is unset</h1><div>A hidden div</div><p>Some text.</p></body></html>`;

/** An ordinary host page, to check that loading the widget changes none of its styles. */
const PLAIN_PAGE = `<!doctype html><html lang="en"><head><title>Plain shop</title>
<style>body { font: 16px Georgia, serif; } .card { padding: 12px; border: 1px solid #ccc; }</style>
</head><body><header><h1>Plain shop</h1><nav><a href="#a">A link</a></nav></header>
<main><div class="card"><h2>Tea</h2><p>Text with <strong>strong</strong> words.</p>
<button type="button">Buy</button><input aria-label="Quantity" value="1" />
<textarea aria-label="Note"></textarea><label>Check <input type="checkbox" /></label>
<ul><li>one</li><li>two</li></ul><section><h3>More</h3><form><select aria-label="Size">
<option>S</option></select></form></section></div></main><footer>Footer</footer></body></html>`;

/**
 * The customer's site: another loopback origin (listed in WIDGET_ORIGINS) serving the host
 * pages. A real server, not a routed response: Chromium's local-network checks refuse a
 * routed page's sockets to 127.0.0.1.
 */
async function customerSite(): Promise<{ origin: string; close(): Promise<void> }> {
  const site = createServer((req, res) => {
    const html = req.url === "/hostile.html" ? hostilePage(server.origin) : PLAIN_PAGE;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  const address = site.address();
  return {
    origin: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    close: () => new Promise((resolve) => site.close(() => resolve())),
  };
}

/** Every computed style property and the box of every host-page element but the widget's. */
function hostStyles(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const out: Record<string, string> = {};
    // Scripts are left out: adding the widget's tag is the one change the page makes itself.
    const all = [...document.querySelectorAll("*")].filter(
      (el) => el.id !== "parley-widget" && el.tagName !== "SCRIPT",
    );
    all.forEach((el, i) => {
      const style = getComputedStyle(el);
      const key = `${i} ${el.tagName}`;
      for (const name of Array.from(style)) out[`${key} ${name}`] = style.getPropertyValue(name);
      const box = el.getBoundingClientRect();
      out[`${key} box`] = [box.x, box.y, box.width, box.height].join(",");
    });
    out.sheets = String(document.styleSheets.length + document.adoptedStyleSheets.length);
    return out;
  });
}

beforeAll(async () => {
  site = await customerSite();
  [server, browser] = await Promise.all([
    startDevServer({ vars: { WIDGET_ORIGINS: site.origin } }),
    launchBrowser(),
  ]);
  await server.createAgent({ email: EMAIL, name: "Hugo Agent", password: PASSWORD });
  agent = await deskAgent(server, EMAIL, PASSWORD);
  visitors.keep(agent.desk);
});
afterAll(async () => {
  await visitors.close();
  await browser?.close();
  await server?.stop();
  await site?.close();
});
beforeEach(() => {
  visitors.problems.length = 0;
});

describe("the widget on a host page", () => {
  it("works on a page whose CSS unsets and hides everything", async () => {
    const page = await visitors.page("hostile page");
    await page.goto(`${site.origin}/hostile.html`);
    const launcher = page.getByTestId("parley-launcher");
    await launcher.waitFor({ state: "visible", timeout: 15_000 });
    // Inside the viewport and at a readable size; the clicks below prove it takes pointer
    // events (Playwright clicks only an element that is the hit target at its point).
    const box = await launcher.boundingBox();
    const viewport = page.viewportSize();
    expect(box && viewport).toBeTruthy();
    if (!box || !viewport) return;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    expect(box.height).toBeLessThan(100);
    const fontSize = await launcher.evaluate((el) => getComputedStyle(el).fontSize);
    expect(Number.parseFloat(fontSize)).toBeLessThan(24);

    await startWidgetChat(page, "Hostile Visitor");
    const chatId = await agent.acceptNext();
    const chat = await agent.join(chatId);
    visitors.keep(chat);
    await page.getByTestId("parley-input").fill("Sent from a hostile page");
    await page.getByTestId("parley-send").click();
    await agentGets(chat, "Sent from a hostile page");
    await agentSays(chat, "h1", "Received, all fine");
    await page
      .locator('[data-testid="parley-message"][data-seq]', { hasText: "Received, all fine" })
      .waitFor();
    expect((await widgetMessages(page)).map((m) => m.text)).toEqual([
      "Sent from a hostile page",
      "Received, all fine",
    ]);
    const input = page.getByTestId("parley-input");
    expect(Number.parseFloat(await input.evaluate((el) => getComputedStyle(el).fontSize))).toBe(
      Number.parseFloat(fontSize),
    );
    await page.screenshot({ path: "test-results/widget-hostile-page.png" });
    expect(visitors.problems).toEqual([]);
  });

  it("changes no style of the host page", async () => {
    const page = await visitors.page("plain page");
    await page.goto(`${site.origin}/plain.html`);
    const before = await hostStyles(page);
    await page.addScriptTag({ url: `${server.origin}/widget.js` });
    await page.getByTestId("parley-launcher").click();
    await page.getByTestId("parley-name").waitFor();
    const after = await hostStyles(page);
    const changed = Object.keys(before).filter((key) => before[key] !== after[key]);
    expect(changed.map((key) => `${key}: ${before[key]} → ${after[key]}`)).toEqual([]);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(visitors.problems).toEqual([]);
  });

  it("has no serious or critical axe-core violation, before and during a chat", async () => {
    const page = await visitors.page("axe");
    await page.goto(`${server.origin}/`);
    await page.getByTestId("parley-launcher").waitFor();
    expect(await widgetViolations(page)).toEqual([]);
    await page.getByTestId("parley-launcher").click();
    await page.getByTestId("parley-start").waitFor();
    expect(await widgetViolations(page)).toEqual([]);

    await page.getByTestId("parley-start").click();
    const chatId = await agent.acceptNext();
    const chat = await agent.join(chatId);
    visitors.keep(chat);
    await page.getByTestId("parley-input").fill("A question");
    await page.getByTestId("parley-send").click();
    await agentGets(chat, "A question");
    await agentSays(chat, "x1", "An answer");
    await page
      .locator('[data-testid="parley-message"][data-seq]', { hasText: "An answer" })
      .waitFor();
    expect(await widgetViolations(page)).toEqual([]);
    expect(visitors.problems).toEqual([]);
  });
});

describe("the widget and the keyboard", () => {
  it("opens with Enter, puts the focus in the form, and gives it back on Escape", async () => {
    const page = await visitors.page("keyboard");
    await page.goto(`${server.origin}/`);
    const launcher = page.getByTestId("parley-launcher");
    await launcher.focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("parley-panel").waitFor({ state: "visible" });
    /** Where the focus is inside the widget's shadow root: the element and its panel's id. */
    const focused = () =>
      page.evaluate(() => {
        const el = document.getElementById("parley-widget")?.shadowRoot?.activeElement;
        const panel = el?.closest('[data-testid="parley-panel"]');
        return `${el?.tagName ?? "none"} ${panel ? "in panel" : el?.getAttribute("data-testid")}`;
      });
    // The pre-chat form's first field, ready to type in.
    expect(await focused()).toMatch(/^(INPUT|SELECT|TEXTAREA) in panel$/);
    await page.keyboard.press("Escape");
    await page.getByTestId("parley-panel").waitFor({ state: "hidden" });
    expect(await focused()).toBe("BUTTON parley-launcher");
    expect(await launcher.getAttribute("aria-expanded")).toBe("false");
    expect(visitors.problems).toEqual([]);
  });
});

describe("the widget bundle", () => {
  it("stays within 15 KB gzipped", async () => {
    const code = await readFile(new URL("../../dist/widget.js", import.meta.url));
    const gzipped = gzipSync(code, { level: 9 }).length;
    console.log(`dist/widget.js: ${code.length} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });
});
