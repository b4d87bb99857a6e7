/**
 * The console as a static site: its page pointed at the API's origin, and Cloudflare Pages'
 * `_headers` with the console's security headers (the Worker adds the same ones when it
 * serves the console itself). Used by `npm run build` and by the test that serves the
 * console from a second origin.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { consoleCsp } from "../../src/security/console-csp.ts";

/**
 * `CONSOLE_API_ORIGIN`, checked: an https origin, or http on loopback (local tests); anything
 * else (a path, a query, credentials, another scheme) throws, since it lands in the page and
 * the CSP. Empty or unset: undefined, the console calls its own origin (served by the Worker).
 */
export function parseConsoleApiOrigin(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const url = URL.parse(value);
  const loopback = url?.protocol === "http:" && ["127.0.0.1", "localhost"].includes(url.hostname);
  if (!url || url.origin !== value || !(url.protocol === "https:" || loopback)) {
    throw new Error(
      `CONSOLE_API_ORIGIN must be an origin like https://chat.example.com (got ${value})`,
    );
  }
  return value;
}

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
