/**
 * widget.js entry. Embed with `<script src="https://<parley-host>/widget.js" async></script>`;
 * the API origin is taken from this script's own URL, so the widget works on any site listed
 * in WIDGET_ORIGINS. Optional attributes: `data-department="sales"` routes chats to a
 * department, `data-identity="<JWT>"` passes the site-signed visitor identity (IDENTITY_SECRET;
 * read when the visitor starts a chat, so the page may set or refresh it at any time), and
 * `data-lang="fr"` picks the language (default: the page's `<html lang>`, else English).
 *
 * Calls the page made on `window.Parley` before this script ran (the queue of the README's
 * snippet, `Parley.q`) are replayed in order once the widget is mounted.
 */
import { useLanguage } from "./strings.ts";
import { mountWidget, type WidgetApi } from "./widget.ts";

/** The page's stand-in before the widget loads: queued `[method, args]` pairs (README snippet). */
type Stub = { q?: [string, unknown[]][] };
const page = window as unknown as { Parley?: Stub | WidgetApi };

// `currentScript` is only set while the script first runs, so read it now, not on DOM ready.
const script = document.currentScript as HTMLScriptElement | null;
const base = new URL(script?.src || location.href).origin;
const department = script?.dataset.department || undefined;
useLanguage(script?.dataset.lang || document.documentElement.lang);

const start = () => {
  // Guard against the tag being included twice.
  if (document.getElementById("parley-widget")) return;
  const queued = (page.Parley as Stub | undefined)?.q ?? [];
  const api = mountWidget({
    base,
    department,
    identity: () => script?.dataset.identity || undefined,
  });
  page.Parley = api;
  for (const [method, args] of queued) {
    const fn = api[method as keyof WidgetApi] as ((...a: unknown[]) => void) | undefined;
    fn?.(...args);
  }
};

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start, { once: true });
