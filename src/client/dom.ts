/**
 * A tiny element builder shared by the widget and the console.
 *
 * Text children become text nodes and attribute values go through `setAttribute`, so data from
 * visitors, agents or the server can never be parsed as HTML (DESIGN invariant 7). There is no
 * way to pass an event handler or a `style` attribute here on purpose: handlers are attached
 * with `addEventListener`, and inline styles would be blocked by a strict CSP anyway.
 */

/** Attribute values: `true` sets an empty attribute, `false`/`undefined` leave it out. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** A child: nodes are appended, strings become text nodes, empty values are skipped. */
export type Child = Node | string | false | null | undefined;

/** Creates `<tag>` with the given attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === true) el.setAttribute(name, "");
    else if (value !== false && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

let idCounter = 0;

/** A document-unique id for pairing labels with inputs. */
export function uid(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Formats a Unix-epoch millisecond time as a short local clock time ("14:05"). */
export function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
