/**
 * `npm run bench:widget`: the widget's weight and how soon it shows. Prints the gzipped size
 * of dist/widget.js, then loads the demo page from `wrangler dev` in headless Chromium
 * (a fresh context, so a cold cache, for every load) and times, with the page's own
 * performance timeline, the script's fetch (its `resource` entry) and the moment the launcher
 * is laid out (a `performance.mark` set by a requestAnimationFrame poll in an init script).
 *
 * Baselines from the same run (this machine is noisy), on the same page with `/widget.js`
 * answered by Chromium from memory: a trivial script that appends one plain button the way
 * the widget mounts (the floor for "a script adds a button"), and an empty script (the page's
 * own load event). The widget itself is also timed answered from memory, so its comparison
 * with the trivial script is its parse, run and render cost alone. Needs `npm run build`.
 */
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../test/helpers/browser.ts";
import { startDevServer } from "../test/helpers/dev-server.ts";
import { machine, percentile } from "./stats.ts";

const RUNS = Number(process.env.BENCH_WIDGET_RUNS ?? 30);
const MARK = "parley-launcher-visible";

/** What the trivial baseline does: one button on the page, once the body exists. */
const TRIVIAL_SCRIPT = `(() => {
  const add = () => {
    const b = document.createElement("button");
    b.id = "baseline-launcher";
    b.textContent = "Chat with us";
    b.style.cssText = "position:fixed;right:20px;bottom:20px";
    document.body.append(b);
  };
  if (document.body) add(); else document.addEventListener("DOMContentLoaded", add);
})();`;

/**
 * Runs in every page before its own scripts: marks the first animation frame in which the
 * widget's launcher (or the baseline's button) has a box.
 */
function markLauncher(mark: string): void {
  const poll = () => {
    const launcher =
      document
        .getElementById("parley-widget")
        ?.shadowRoot?.querySelector('[data-testid="parley-launcher"]') ??
      document.getElementById("baseline-launcher");
    if (launcher && launcher.getBoundingClientRect().width > 0) performance.mark(mark);
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}

/** One page load's timings, in ms from navigation start. */
interface Sample {
  /** The script's fetch: resource entry start to response end. */
  fetch: number;
  /** From the script's response end to the launcher laid out. */
  toVisible: number;
  /** From navigation start to the launcher laid out. */
  navToVisible: number;
  loadEvent: number;
}

type Variant = "widget" | "widget, from memory" | "trivial script, from memory" | "empty script";

async function load(browser: Browser, origin: string, variant: Variant, widget: Buffer) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.addInitScript(markLauncher, MARK);
    if (variant !== "widget") {
      const body =
        variant === "widget, from memory"
          ? widget
          : variant === "trivial script, from memory"
            ? TRIVIAL_SCRIPT
            : "";
      await page.route(`${origin}/widget.js`, (route) =>
        route.fulfill({ status: 200, contentType: "text/javascript", body }),
      );
    }
    await page.goto(`${origin}/`, { waitUntil: "load" });
    const wantMark = variant !== "empty script";
    if (wantMark) {
      await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, MARK);
    }
    // Awaited here: the context closes in `finally`.
    return await page.evaluate(
      ({ mark, wantMark }): Sample => {
        const script = performance
          .getEntriesByType("resource")
          .find((e) => e.name.endsWith("/widget.js")) as PerformanceResourceTiming;
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const visible = wantMark ? (performance.getEntriesByName(mark)[0]?.startTime ?? 0) : 0;
        return {
          fetch: script.responseEnd - script.startTime,
          toVisible: wantMark ? visible - script.responseEnd : Number.NaN,
          navToVisible: wantMark ? visible : Number.NaN,
          loadEvent: nav.loadEventStart,
        };
      },
      { mark: MARK, wantMark },
    );
  } finally {
    await context.close();
  }
}

const ms = (n: number) => (Number.isNaN(n) ? "–" : `${n.toFixed(1)} ms`);

async function main(): Promise<void> {
  const widget = await readFile(new URL("../dist/widget.js", import.meta.url));
  const gzipped = gzipSync(widget, { level: 9 }).length;
  console.log(`dist/widget.js: ${widget.length} bytes, ${gzipped} bytes gzipped (budget 15360)`);

  const [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  const variants: Variant[] = [
    "widget",
    "widget, from memory",
    "trivial script, from memory",
    "empty script",
  ];
  const samples = new Map<Variant, Sample[]>(variants.map((v) => [v, []]));
  try {
    // Two warm-up loads (wrangler dev compiles on first use), then the variants interleaved,
    // so a burst of load from other jobs hits them all alike.
    for (let i = 0; i < 2; i++) await load(browser, server.origin, "widget", widget);
    for (let run = 0; run < RUNS; run++) {
      for (const variant of variants) {
        samples.get(variant)?.push(await load(browser, server.origin, variant, widget));
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }

  console.log(`\nDemo page, ${RUNS} cold loads per variant, p50 / p90:\n`);
  console.log(
    "| /widget.js | script fetch | script end → launcher | navigation → launcher | load event |",
  );
  console.log("| --- | --- | --- | --- | --- |");
  for (const variant of variants) {
    const list = samples.get(variant) ?? [];
    const cell = (key: keyof Sample) => {
      const values = list.map((s) => s[key]);
      return `${ms(percentile(values, 50))} / ${ms(percentile(values, 90))}`;
    };
    console.log(
      `| ${variant} | ${cell("fetch")} | ${cell("toVisible")} | ${cell("navToVisible")} | ${cell("loadEvent")} |`,
    );
  }
  console.log(`\nMachine: ${machine()}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
