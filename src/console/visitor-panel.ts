/**
 * What the console shows about a chat's visitor beside the messages: email, department, the
 * page they were on, their segments and the custom variables the site lets agents see. All
 * of it is visitor-supplied text (or vouched for by the site: the verified badge), so it goes
 * in as text only; a page URL is never made a link.
 */
import { h } from "../client/dom.ts";
import type { VisitorSummary } from "../protocol/dispatcher-frames.ts";

/** A definition list of the visitor's details; null when nothing is known. */
export function visitorPanel(visitor: VisitorSummary | undefined): HTMLElement | null {
  if (!visitor) return null;
  const rows: [string, string][] = [];
  if (visitor.email) rows.push(["Email", visitor.email]);
  rows.push(["Department", visitor.department]);
  if (visitor.pageUrl) rows.push(["Page", visitor.pageUrl]);
  if (visitor.segments?.length) rows.push(["Segments", visitor.segments.join(", ")]);
  for (const [name, value] of Object.entries(visitor.variables ?? {})) {
    rows.push([name, String(value)]);
  }
  return h(
    "dl",
    { class: "visitor-panel", "data-testid": "visitor-panel" },
    ...rows.flatMap(([term, value]) => [h("dt", null, term), h("dd", null, value)]),
  );
}
