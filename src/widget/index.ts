/**
 * widget.js entry. Embed with `<script src="https://<parley-host>/widget.js" defer></script>`;
 * the API origin is taken from this script's own URL, so the widget works on any site listed
 * in WIDGET_ORIGINS. Optional `data-department="sales"` routes chats to a department, and
 * `data-identity="<JWT>"` passes the site-signed visitor identity (IDENTITY_SECRET); it is
 * read when the visitor starts a chat, so the page may set or refresh it at any time.
 */
import { mountWidget } from "./widget.ts";

// `currentScript` is only set while the script first runs, so read it now, not on DOM ready.
const script = document.currentScript as HTMLScriptElement | null;
const base = new URL(script?.src || location.href).origin;
const department = script?.dataset.department || undefined;

const start = () => {
  // Guard against the tag being included twice.
  if (!document.getElementById("parley-widget")) {
    mountWidget({ base, department, identity: () => script?.dataset.identity || undefined });
  }
};

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start, { once: true });
