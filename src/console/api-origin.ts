/**
 * Where the console's API lives. Served by the Worker, the console calls its own origin. Built
 * for a static host on another origin (Cloudflare Pages: `CONSOLE_API_ORIGIN=… npm run
 * build`), it calls the origin written into `<meta name="parley-api-origin">`, with
 * credentials, which the Worker allows for the origins in CONSOLE_ORIGINS. The two must be on
 * one registrable domain (console.example.com and chat.example.com): the session cookie is
 * `SameSite=Strict`, so it never travels between different sites.
 */
import { toWsBase } from "../client/http.ts";

/** The configured API origin, or "" for this page's own. Read when needed, not at import. */
function configured(): string {
  return (
    document.querySelector<HTMLMetaElement>('meta[name="parley-api-origin"]')?.content.trim() ?? ""
  );
}

/** The URL of an API path (`/api/…`). */
export function apiUrl(path: string): string {
  return `${configured()}${path}`;
}

/** Credentials for API calls: the session cookie must ride along to another origin too. */
export function apiCredentials(): RequestCredentials {
  return configured() ? "include" : "same-origin";
}

/** `ws:`/`wss:` origin for the console's sockets. */
export function wsBase(): string {
  return toWsBase(configured() || location.origin);
}
