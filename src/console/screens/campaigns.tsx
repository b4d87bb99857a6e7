/**
 * Campaigns: the widget's look and texts, pre-chat form, survey and automatic invitations,
 * per set of pages (URL rules), in priority order.
 */
import { render } from "hono/jsx/dom";
import type { Campaign, CampaignResponse } from "../../protocol/campaigns.ts";
import { CampaignForm } from "./campaign-form.tsx";
import { formatTime } from "./format.ts";
import { type DocumentFormProps, type DocumentKind, DocumentsScreen } from "./json-documents.tsx";
import type { Screen } from "./screen.ts";

const CAMPAIGNS: DocumentKind<Campaign> = {
  path: "/api/campaigns",
  plural: "campaigns",
  noun: "campaign",
  key: (c) => c.id,
  columns: ["Name", "Enabled", "Priority", "Pages", "Changed"],
  cells: (c) => [
    c.name,
    c.enabled ? "yes" : "no",
    String(c.priority),
    c.urlRules.length === 0 ? "every page" : c.urlRules.map((r) => `${r.op} ${r.value}`).join("; "),
    formatTime(c.updatedAt),
  ],
  // Null or absent: the built-in default (widget fields each optional).
  template: {
    name: "New campaign",
    enabled: false,
    priority: 100,
    urlRules: [{ op: "starts_with", value: "https://example.com/" }],
    widget: { title: "Chat with us" },
    preChatForm: null,
    survey: null,
    autoInvite: null,
  },
  editable: ({ id: _id, createdAt: _c, createdBy: _cb, updatedAt: _u, updatedBy: _ub, ...body }) =>
    body,
  fetchOne: (answer) => (answer as CampaignResponse).campaign,
};

/** `#/campaigns`. */
export const campaignsScreen: Screen = {
  id: "campaigns",
  title: "Campaigns",
  anyOf: ["campaigns.manage"],
  reaches: [
    "GET /api/campaigns",
    "GET /api/campaigns/:id",
    "POST /api/campaigns",
    "PUT /api/campaigns/:id",
    "DELETE /api/campaigns/:id",
    // The form offers the declared custom variables as pre-chat keys to those who may read them.
    "GET /api/variables",
  ],
  render(root, ctx) {
    const canReadVariables = ctx.can("variables.manage");
    const Form = (props: DocumentFormProps) => (
      <CampaignForm {...props} canReadVariables={canReadVariables} />
    );
    render(<DocumentsScreen kind={{ ...CAMPAIGNS, Form }} />, root);
    return undefined;
  },
};
