/** Visitor segments: named rule sets that put visitors into segments (routing, reports). */
import { render } from "hono/jsx/dom";
import type { Segment } from "../../protocol/segments.ts";
import { formatTime } from "./format.ts";
import { type DocumentFormProps, type DocumentKind, DocumentsScreen } from "./json-documents.tsx";
import type { Screen } from "./screen.ts";
import { SegmentForm } from "./segment-form.tsx";

const SEGMENTS: DocumentKind<Segment> = {
  path: "/api/segments",
  plural: "segments",
  noun: "segment",
  key: (s) => s.id,
  columns: ["Id", "Name", "Rules", "Changed"],
  cells: (s) => [
    s.id,
    s.name,
    `${s.rules.match === "all" ? "all of" : "any of"} ${s.rules.conditions.length} condition${s.rules.conditions.length === 1 ? "" : "s"}`,
    formatTime(s.updatedAt),
  ],
  template: {
    id: "new-segment",
    name: "New segment",
    rules: { match: "all", conditions: [{ field: "visits", op: "gte", value: 2 }] },
  },
  editable: (s) => ({ name: s.name, rules: s.rules }),
};

/** `#/segments`. */
export const segmentsScreen: Screen = {
  id: "segments",
  title: "Visitor segments",
  anyOf: ["segments.manage"],
  reaches: [
    "GET /api/segments",
    "POST /api/segments",
    "PUT /api/segments/:id",
    "DELETE /api/segments/:id",
    // The form offers the declared custom variables to those who may read them.
    "GET /api/variables",
  ],
  render(root, ctx) {
    const canReadVariables = ctx.can("variables.manage");
    const Form = (props: DocumentFormProps) => (
      <SegmentForm {...props} canReadVariables={canReadVariables} />
    );
    render(<DocumentsScreen kind={{ ...SEGMENTS, Form }} />, root);
    return undefined;
  },
};
