/**
 * Builds the static assets into dist/ (served by the Worker's assets binding):
 *   dist/index.html              the demo page (src/demo)
 *   dist/widget.js (+ .sri)      the visitor widget, one IIFE, with its SRI hash beside it
 *   dist/console/                the agent console
 *   dist/.assetsignore           keeps `wrangler deploy --dry-run --outdir dist/worker` unserved
 *
 * Run with `npm run build` (Node 22 strips the types; no extra tooling).
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = (p: string) => path.join(root, "src", p);
const dist = (p = "") => path.join(root, "dist", p);

/**
 * The widget ships on customers' pages: keep it small. The budget is what travels over the
 * wire — gzipped bytes, 15 KB (the widget issue's figure).
 */
const WIDGET_BUDGET_GZIP_BYTES = 15 * 1024;

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

/** Fails the build if a bundle pulled in a package that must stay out of the browser. */
function assertExcludes(metafile: Metafile, bundle: string, packages: string[]): void {
  for (const input of Object.keys(metafile.inputs)) {
    for (const pkg of packages) {
      if (input.includes(`node_modules/${pkg}/`)) {
        throw new Error(
          `${bundle} must not bundle ${pkg} (imported via ${input}); use "import type"`,
        );
      }
    }
  }
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
      target: "es2020",
    }),
    build({
      ...common,
      entryPoints: [src("console/index.ts")],
      outfile: dist("console/console.js"),
      format: "esm",
      target: "es2022",
    }),
  ]);
  // The widget imports protocol types only; zod (or any server code) in it is a mistake.
  assertExcludes(widget.metafile as Metafile, "widget.js", ["zod", "hono", "jose"]);
  assertExcludes(consoleApp.metafile as Metafile, "console.js", ["hono", "jose"]);

  await Promise.all([
    copyFile(src("console/index.html"), dist("console/index.html")),
    copyFile(src("console/console.css"), dist("console/console.css")),
    copyFile(src("console/auth.css"), dist("console/auth.css")),
    copyFile(src("demo/index.html"), dist("index.html")),
    copyFile(src("demo/demo.css"), dist("demo.css")),
    writeFile(dist(".assetsignore"), "worker\n"),
  ]);

  const code = await readFile(dist("widget.js"));
  const sri = `sha384-${createHash("sha384").update(code).digest("base64")}`;
  await writeFile(dist("widget.js.sri"), `${sri}\n`);

  const gzipped = gzipSync(code, { level: 9 }).length;
  const consoleSize = (await readFile(dist("console/console.js"))).length;
  console.log(
    `dist/widget.js       ${code.length} bytes (${kb(code.length)}), ${gzipped} bytes gzipped`,
  );
  console.log(`dist/widget.js.sri   ${sri}`);
  console.log(`dist/console/console.js ${consoleSize} bytes (${kb(consoleSize)})`);
  if (gzipped > WIDGET_BUDGET_GZIP_BYTES) {
    throw new Error(
      `widget.js is ${gzipped} bytes gzipped, over its ${WIDGET_BUDGET_GZIP_BYTES}-byte budget`,
    );
  }
}

main().catch((err: unknown) => {
  console.error("[build]", err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
