/**
 * Campaigns (`campaigns.manage`): list, read, create, replace and delete the campaigns that
 * customise the widget per page (`GET /api/widget/config` serves them, widget-config.ts).
 * Changes need an allowed Origin and are audited (`campaign.create|update|delete`) with a
 * summary of the campaign before and after: a whole campaign is too large for an audit row.
 */
import { Hono } from "hono";
import { CHAT_START_KEYS } from "../../src/protocol/campaign-defaults.ts";
import {
  type Campaign,
  type CampaignContent,
  type CampaignListResponse,
  type CampaignResponse,
  campaignRequestFor,
  MAX_CAMPAIGNS,
} from "../../src/protocol/campaigns.ts";
import { TEXT_VARIABLE_TYPES } from "../../src/protocol/variables.ts";
import {
  createCampaign,
  deleteCampaign,
  findCampaign,
  listCampaigns,
  updateCampaign,
} from "../../src/store/campaigns.ts";
import { loadVariableDeclarations } from "../../src/store/variables.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";
import { auditAction } from "../audit-action.ts";
import { requirePermission } from "../middleware/access.ts";
import { consoleOrigin } from "../middleware/origin.ts";
import { requireAgent } from "../middleware/session-auth.ts";
import { assertNoFieldProblems, readJson } from "../read-json.ts";

export const campaignsRoutes = new Hono<AppEnv>();

campaignsRoutes.use(requireAgent({ tokens: true }));
const manage = requirePermission("campaigns.manage");

/** Campaign ids are UUIDs; anything much longer cannot exist and is not worth a query. */
const MAX_ID_CHARS = 128;

const notFound = () => new ApiError(404, "campaign_not_found", "No such campaign.");

/** The campaign the route's `:id` names, or 404. */
async function named(db: D1Database, id: string): Promise<Campaign> {
  const campaign = id.length <= MAX_ID_CHARS ? await findCampaign(db, id) : null;
  if (!campaign) throw notFound();
  return campaign;
}

/**
 * A pre-chat field other than the chat start's own fills a custom variable with the text the
 * visitor types, so it must name a declared variable that holds text (400 like a schema error
 * otherwise): an unknown or a number or yes/no variable would have every chat start from the
 * form refused with `invalid_variables`.
 */
async function assertPreChatVariables(db: D1Database, content: CampaignContent): Promise<void> {
  const asked = (content.preChatForm?.fields ?? []).flatMap((field, index) =>
    CHAT_START_KEYS.includes(field.key) ? [] : [{ key: field.key, index }],
  );
  if (asked.length === 0) return;
  const text = new Set(
    (await loadVariableDeclarations(db))
      .filter((variable) => TEXT_VARIABLE_TYPES.includes(variable.type))
      .map((variable) => variable.name),
  );
  assertNoFieldProblems(
    asked
      .filter(({ key }) => !text.has(key))
      .map(({ index }) => ({
        path: `preChatForm.fields.${index}.key`,
        message: "name, email, department or a declared custom variable that holds text",
      })),
  );
}

/**
 * What an audit row says about a campaign: its settings and the shape of its nested parts
 * (texts and rule values are in the campaign itself; the name is card-masked already).
 */
const described = (campaign: CampaignContent) => ({
  name: campaign.name,
  enabled: campaign.enabled,
  priority: campaign.priority,
  urlRules: campaign.urlRules.length,
  widget: Object.keys(campaign.widget).sort(),
  preChatForm: campaign.preChatForm && {
    enabled: campaign.preChatForm.enabled,
    fields: campaign.preChatForm.fields.map((f) => f.key),
  },
  survey: campaign.survey,
  autoInvite: campaign.autoInvite && {
    enabled: campaign.autoInvite.enabled,
    afterSeconds: campaign.autoInvite.afterSeconds,
    urlRules: campaign.autoInvite.urlRules.length,
  },
});

const CONTENT_KEYS = [
  "name",
  "enabled",
  "priority",
  "urlRules",
  "widget",
  "preChatForm",
  "survey",
  "autoInvite",
] as const satisfies readonly (keyof CampaignContent)[];

/** The parts of a campaign a replacement changed, so an auditor sees more than the summary. */
const changedParts = (before: CampaignContent, after: CampaignContent) =>
  CONTENT_KEYS.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));

campaignsRoutes.get("/", manage, async (c) => {
  const body: CampaignListResponse = { campaigns: await listCampaigns(c.env.DB) };
  return c.json(body);
});

campaignsRoutes.get("/:id", manage, async (c) => {
  const body: CampaignResponse = { campaign: await named(c.env.DB, c.req.param("id")) };
  return c.json(body);
});

campaignsRoutes.post("/", manage, consoleOrigin(), async (c) => {
  const content = await readJson(c, campaignRequestFor(c.var.config.cardMasking));
  await assertPreChatVariables(c.env.DB, content);
  const now = Date.now();
  const agentId = c.var.agent.id;
  const campaign: Campaign = {
    id: crypto.randomUUID(),
    ...content,
    createdAt: now,
    createdBy: agentId,
    updatedAt: now,
    updatedBy: agentId,
  };
  if (!(await createCampaign(c.env.DB, campaign))) {
    throw new ApiError(
      409,
      "too_many_campaigns",
      `A deployment keeps at most ${MAX_CAMPAIGNS} campaigns; delete one first.`,
      { max: MAX_CAMPAIGNS },
    );
  }
  await auditAction(c, {
    action: "campaign.create",
    target: campaign.id,
    outcome: "success",
    details: { before: null, after: described(campaign) },
  });
  const body: CampaignResponse = { campaign };
  return c.json(body, 201);
});

campaignsRoutes.put("/:id", manage, consoleOrigin(), async (c) => {
  const db = c.env.DB;
  const before = await named(db, c.req.param("id"));
  const content = await readJson(c, campaignRequestFor(c.var.config.cardMasking));
  await assertPreChatVariables(db, content);
  const after: Campaign = {
    ...before,
    ...content,
    updatedAt: Date.now(),
    updatedBy: c.var.agent.id,
  };
  // Deleted since the read: the same answer as a missing campaign.
  if (!(await updateCampaign(db, after))) throw notFound();
  await auditAction(c, {
    action: "campaign.update",
    target: after.id,
    outcome: "success",
    details: {
      changed: changedParts(before, after),
      before: described(before),
      after: described(after),
    },
  });
  const body: CampaignResponse = { campaign: after };
  return c.json(body);
});

campaignsRoutes.delete("/:id", manage, consoleOrigin(), async (c) => {
  const campaign = await named(c.env.DB, c.req.param("id"));
  if (!(await deleteCampaign(c.env.DB, campaign.id))) throw notFound();
  await auditAction(c, {
    action: "campaign.delete",
    target: campaign.id,
    outcome: "success",
    details: { before: described(campaign), after: null },
  });
  return c.json({ ok: true });
});
