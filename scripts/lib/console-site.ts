/**
 * The console as a static site: its page pointed at the API's origin, and Cloudflare Pages'
 * `_headers` with the console's security headers (the Worker adds the same ones when it
 * serves the console itself). Used by `npm run build` and by the test that serves the
 * console from a second origin.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { consoleCsp } from "../../src/security/console-csp.ts";

const EMPTY_META = '<meta name="parley-api-origin" content="" />';

/**
 * Writes `index.html` (from `page`, src/console/index.html) and `_headers` into `dir`.
 * `apiOrigin`: the API's origin when it is not the console's own.
 */
export async function writeConsoleSite(
  dir: string,
  page: string,
  apiOrigin: string | undefined,
): Promise<void> {
  if (!page.includes(EMPTY_META)) {
    throw new Error("src/console/index.html lost its parley-api-origin meta tag");
  }
  const meta = `<meta name="parley-api-origin" content="${apiOrigin ?? ""}" />`;
  const headers = [
    "/*",
    `  Content-Security-Policy: ${consoleCsp(apiOrigin)}`,
    "  X-Frame-Options: DENY",
    "  X-Content-Type-Options: nosniff",
    "  Referrer-Policy: strict-origin-when-cross-origin",
    "  Strict-Transport-Security: max-age=31536000; includeSubDomains",
    "",
  ];
  await Promise.all([
    writeFile(path.join(dir, "index.html"), page.replace(EMPTY_META, meta)),
    writeFile(path.join(dir, "_headers"), headers.join("\n")),
  ]);
}
