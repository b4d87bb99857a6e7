/**
 * Builds the static assets into dist/ (served by the Worker's assets binding):
 *   dist/index.html              the demo page (src/demo)
 *   dist/widget.js (+ .sri)      the visitor widget, one IIFE (esbuild, then terser), with its
 *                                SRI hash beside it
 *   dist/console/                the agent console (also a static site: `wrangler pages deploy
 *                                dist/console`, with `_headers` for Pages)
 *   dist/.assetsignore           keeps `wrangler deploy --dry-run --outdir dist/worker` unserved
 *
 * Run with `npm run build` (Node 22 strips the types; no extra tooling). For a console on
 * another origin than the API (Pages), `CONSOLE_API_ORIGIN=https://chat.example.com npm run
 * build` points the console at the API and lets its CSP connect there.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { minify } from "terser";
import { parseConsoleApiOrigin, writeConsoleSite } from "./lib/console-site.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = (p: string) => path.join(root, "src", p);
const dist = (p = "") => path.join(root, "dist", p);

/**
 * The widget ships on customers' pages: keep it small. The budget is what travels over the
 * wire — gzipped bytes, 15 KB (the widget issue's figure).
 */
const WIDGET_BUDGET_GZIP_BYTES = 15 * 1024;
/** The console's JavaScript, gzipped (the console issue's figure). */
const CONSOLE_BUDGET_GZIP_BYTES = 120 * 1024;

const common: BuildOptions = {
  bundle: true,
  minify: true,
  platform: "browser",
  legalComments: "none",
  // Default ASCII output: a host page with a legacy charset must not garble the widget's text.
  charset: "ascii",
  metafile: true,
  logLevel: "warning",
};

/**
 * Hono files a browser bundle may hold: its JSX DOM renderer (the console's framework) and
 * what that renderer imports — never the server framework.
 */
const HONO_BROWSER_FILES = ["hono/dist/jsx/", "hono/dist/utils/html.js", "hono/dist/_virtual/"];

/** Fails the build if a bundle pulled in a package that must stay out of the browser. */
function assertExcludes(metafile: Metafile, bundle: string, packages: string[]): void {
  for (const input of Object.keys(metafile.inputs)) {
    if (bundle === "console.js" && HONO_BROWSER_FILES.some((file) => input.includes(file))) {
      continue;
    }
    for (const pkg of packages) {
      if (input.includes(`node_modules/${pkg}/`)) {
        throw new Error(
          `${bundle} must not bundle ${pkg} (imported via ${input}); use "import type"`,
        );
      }
    }
  }
}

/**
 * Terser after esbuild's minifier: its repeated compress passes (inlining, joining and
 * dropping what esbuild keeps) save about 500 bytes of the widget's gzipped size, room the
 * 15 KB budget needs. Only safe transforms (no `unsafe*` options); the e2e widget tests run on
 * this output. No source map is emitted for the widget, so none needs carrying over.
 */
async function squeezeWidget(file: string): Promise<void> {
  const result = await minify(await readFile(file, "utf8"), {
    ecma: 2022,
    compress: { passes: 3, ecma: 2022 },
    mangle: true,
    // Same reason as esbuild's `charset: "ascii"` above.
    format: { ascii_only: true, comments: false },
  });
  if (result.code === undefined) throw new Error(`terser produced nothing for ${file}`);
  await writeFile(file, result.code);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  await rm(dist(), { recursive: true, force: true });
  await mkdir(dist("console"), { recursive: true });

  const [widget, consoleApp] = await Promise.all([
    build({
      ...common,
      entryPoints: [src("widget/index.ts")],
      outfile: dist("widget.js"),
      format: "iife",
      // ES2022 runs in every browser released since 2022 (Safari 15.4, Chrome 94, Firefox
      // 93); older output would cost bytes of the 15 KB budget for browsers long out of support.
      target: "es2022",
    }),
    build({
      ...common,
      entryPoints: [src("console/index.ts")],
      outfile: dist("console/console.js"),
      format: "esm",
      target: "es2022",
      // Screens written as .tsx render with hono/jsx/dom (as tsconfig.browser.json says for tsc).
      jsx: "automatic",
      jsxImportSource: "hono/jsx/dom",
    }),
  ]);
  // The browser apps import protocol types and zod-free constants (protocol/limits.ts) only:
  // zod, ipaddr.js or any server code in them is a mistake (and 100 KB too many).
  assertExcludes(widget.metafile as Metafile, "widget.js", ["zod", "hono", "jose"]);
  assertExcludes(consoleApp.metafile as Metafile, "console.js", [
    "hono",
    "jose",
    "zod",
    "ipaddr.js",
  ]);

  await Promise.all([
    readFile(src("console/index.html"), "utf8").then((page) =>
      writeConsoleSite(
        dist("console"),
        page,
        parseConsoleApiOrigin(process.env.CONSOLE_API_ORIGIN),
      ),
    ),
    copyFile(src("console/console.css"), dist("console/console.css")),
    copyFile(src("console/auth.css"), dist("console/auth.css")),
    copyFile(src("demo/index.html"), dist("index.html")),
    copyFile(src("demo/demo.css"), dist("demo.css")),
    // Pages reads console/_headers; the Worker sets those headers itself and need not serve it.
    writeFile(dist(".assetsignore"), "worker\nconsole/_headers\n"),
  ]);

  // Before the hash: the SRI and the budget are of the file that is served.
  await squeezeWidget(dist("widget.js"));
  const code = await readFile(dist("widget.js"));
  const sri = `sha384-${createHash("sha384").update(code).digest("base64")}`;
  await writeFile(dist("widget.js.sri"), `${sri}\n`);

  const gzipped = gzipSync(code, { level: 9 }).length;
  const consoleCode = await readFile(dist("console/console.js"));
  const consoleGzipped = gzipSync(consoleCode, { level: 9 }).length;
  console.log(
    `dist/widget.js       ${code.length} bytes (${kb(code.length)}), ${gzipped} bytes gzipped`,
  );
  console.log(`dist/widget.js.sri   ${sri}`);
  console.log(
    `dist/console/console.js ${consoleCode.length} bytes (${kb(consoleCode.length)}), ${consoleGzipped} bytes gzipped`,
  );
  if (gzipped > WIDGET_BUDGET_GZIP_BYTES) {
    throw new Error(
      `widget.js is ${gzipped} bytes gzipped, over its ${WIDGET_BUDGET_GZIP_BYTES}-byte budget`,
    );
  }
  if (consoleGzipped > CONSOLE_BUDGET_GZIP_BYTES) {
    throw new Error(
      `console.js is ${consoleGzipped} bytes gzipped, over its ${CONSOLE_BUDGET_GZIP_BYTES}-byte budget`,
    );
  }
}

main().catch((err: unknown) => {
  console.error("[build]", err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
