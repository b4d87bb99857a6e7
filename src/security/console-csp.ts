/**
 * The console's Content Security Policy, in one place for both ways it is served: by the
 * Worker (same origin as the API: `connect-src 'self'`) and as a static site on another
 * origin, e.g. Cloudflare Pages, where `npm run build` writes it into `_headers` with the
 * API's origin added to `connect-src` (HTTP and WebSocket), and nothing else widened.
 */

/** The policy; `apiOrigin` (`https://chat.example.com`) when the API is on another origin. */
export function consoleCsp(apiOrigin?: string): string {
  const api = apiOrigin ? ` ${apiOrigin} ${apiOrigin.replace(/^http/, "ws")}` : "";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${api}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}
