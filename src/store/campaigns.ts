/**
 * D1 access to campaigns (table `campaigns`, migration 0011) and what the widget configuration
 * reads besides them. Nested parts are stored as JSON that passed `campaignRequestFor`, so
 * they are read back without another validation.
 */
import {
  type AutoInvite,
  type Campaign,
  MAX_CAMPAIGNS,
  type PreChatForm,
  type UrlRule,
  type WidgetConfig,
  type WidgetLook,
} from "../protocol/campaigns.ts";

interface CampaignRow {
  id: string;
  name: string;
  enabled: number;
  priority: number;
  url_rules: string;
  widget: string;
  pre_chat_form: string | null;
  survey: number | null;
  auto_invite: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    priority: row.priority,
    urlRules: JSON.parse(row.url_rules) as UrlRule[],
    widget: JSON.parse(row.widget) as Partial<WidgetLook>,
    preChatForm: row.pre_chat_form ? (JSON.parse(row.pre_chat_form) as PreChatForm) : null,
    survey: row.survey === null ? null : row.survey === 1,
    autoInvite: row.auto_invite ? (JSON.parse(row.auto_invite) as AutoInvite) : null,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** The columns of `campaign` in the order of the INSERT and UPDATE statements below. */
function columns(campaign: Campaign): unknown[] {
  return [
    campaign.id,
    campaign.name,
    campaign.enabled ? 1 : 0,
    campaign.priority,
    JSON.stringify(campaign.urlRules),
    JSON.stringify(campaign.widget),
    campaign.preChatForm ? JSON.stringify(campaign.preChatForm) : null,
    campaign.survey === null ? null : campaign.survey ? 1 : 0,
    campaign.autoInvite ? JSON.stringify(campaign.autoInvite) : null,
    campaign.createdAt,
    campaign.createdBy,
    campaign.updatedAt,
    campaign.updatedBy,
  ];
}

/**
 * Every campaign, or only the enabled ones (among which the widget configuration chooses), by
 * priority, then id; at most MAX_CAMPAIGNS exist.
 */
export async function listCampaigns(
  db: D1Database,
  { enabledOnly = false }: { enabledOnly?: boolean } = {},
): Promise<Campaign[]> {
  const where = enabledOnly ? "WHERE enabled = 1" : "";
  const { results } = await db
    .prepare(`SELECT * FROM campaigns ${where} ORDER BY priority, id`)
    .all<CampaignRow>();
  return results.map(toCampaign);
}

/** One campaign, or null. */
export async function findCampaign(db: D1Database, id: string): Promise<Campaign | null> {
  const row = await db
    .prepare("SELECT * FROM campaigns WHERE id = ?1")
    .bind(id)
    .first<CampaignRow>();
  return row ? toCampaign(row) : null;
}

/**
 * Stores a new campaign; false when MAX_CAMPAIGNS exist already. One statement counts and
 * inserts, so concurrent requests cannot overshoot the limit.
 */
export async function createCampaign(db: D1Database, campaign: Campaign): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO campaigns (id, name, enabled, priority, url_rules, widget, pre_chat_form,
         survey, auto_invite, created_at, created_by, updated_at, updated_by)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13
       WHERE (SELECT count(*) FROM campaigns) < ${MAX_CAMPAIGNS}`,
    )
    .bind(...columns(campaign))
    .run();
  return result.meta.changes === 1;
}

/** Replaces a campaign's content (its creation stays); false when it is gone. */
export async function updateCampaign(db: D1Database, campaign: Campaign): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE campaigns SET name = ?2, enabled = ?3, priority = ?4, url_rules = ?5, widget = ?6,
         pre_chat_form = ?7, survey = ?8, auto_invite = ?9, updated_at = ?12, updated_by = ?13
       WHERE id = ?1`,
    )
    .bind(...columns(campaign))
    .run();
  return result.meta.changes === 1;
}

/** Deletes a campaign; false when there was none. The audit log keeps its history. */
export async function deleteCampaign(db: D1Database, id: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM campaigns WHERE id = ?1").bind(id).run();
  return result.meta.changes > 0;
}

/** Every department's id and name, by name: the choices of the pre-chat form's picker. */
export async function departmentChoices(db: D1Database): Promise<WidgetConfig["departments"]> {
  const { results } = await db
    .prepare("SELECT id, name FROM departments ORDER BY name, id")
    .all<{ id: string; name: string }>();
  return results;
}
