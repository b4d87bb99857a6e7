/**
 * `GET /api/widget/config?url=`: what the widget shows on one page — the look, texts, pre-chat
 * form, survey and auto-invitation of the campaign whose URL rules match the page (lowest
 * priority first), over the built-in defaults, and the departments for the picker. Public: a
 * configuration is no secret, and a GET from a customer's page may come without an Origin.
 * Mounted under `/api/widget`, which shares the visitor API's CORS grant (app.ts).
 *
 * Cached by browsers and CDNs for a minute, and revalidated with a strong ETag (SHA-256 of
 * the body): a matching `If-None-Match` answers `304` without a body. Agents' online status
 * is not in it: that changes too often to cache.
 */
import { Hono } from "hono";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { chooseCampaign, matchesUrlRules } from "../../src/desk/campaign-match.ts";
import {
  DEFAULT_AUTO_INVITE,
  DEFAULT_PRE_CHAT_FORM,
  DEFAULT_SURVEY,
  DEFAULT_WIDGET,
} from "../../src/protocol/campaign-defaults.ts";
import {
  type AutoInvite,
  type WidgetAutoInvite,
  type WidgetConfig,
  widgetConfigQueryFor,
} from "../../src/protocol/campaigns.ts";
import { departmentChoices, listCampaigns } from "../../src/store/campaigns.ts";
import type { AppEnv } from "../app-env.ts";
import { publicRoute } from "../middleware/access.ts";
import { clientIpKey, MINUTE_MS, rateLimit } from "../middleware/rate-limit.ts";
import { readQuery } from "../read-query.ts";

export const widgetConfigRoutes = new Hono<AppEnv>();

/** Short enough that a campaign change reaches pages within a minute or two. */
const CACHE_CONTROL = "public, max-age=60";

/** The auto-invitation on `page`: on only when it is enabled and its URL rules match. */
function invitationOn(autoInvite: AutoInvite | null, page: string): WidgetAutoInvite {
  if (!autoInvite) return DEFAULT_AUTO_INVITE;
  const { urlRules, ...rest } = autoInvite;
  return { ...rest, enabled: rest.enabled && matchesUrlRules(urlRules, page) };
}

widgetConfigRoutes.get(
  "/config",
  publicRoute(),
  // First, so a flood is turned away before any D1 work; a 304 counts too.
  rateLimit(
    "widget-config",
    clientIpKey,
    (config) => config.rateLimits.widgetConfigPerIpPerMinute,
    MINUTE_MS,
  ),
  etag({
    generateDigest: (body) => crypto.subtle.digest("SHA-256", body),
    // A widget that revalidates by itself reads the 304 cross-origin: keep its CORS grant.
    retainedHeaders: [...RETAINED_304_HEADERS, "access-control-allow-origin"],
  }),
  async (c) => {
    const { url: page } = readQuery(c, widgetConfigQueryFor(c.var.config.cardMasking));
    const db = c.env.DB;
    const [campaigns, departments] = await Promise.all([
      listCampaigns(db, { enabledOnly: true }),
      departmentChoices(db),
    ]);
    const campaign = chooseCampaign(campaigns, page);
    const body: WidgetConfig = {
      campaignId: campaign?.id ?? null,
      widget: { ...DEFAULT_WIDGET, ...campaign?.widget },
      preChatForm: campaign?.preChatForm ?? DEFAULT_PRE_CHAT_FORM,
      survey: campaign?.survey ?? DEFAULT_SURVEY,
      autoInvite: invitationOn(campaign?.autoInvite ?? null, page),
      departments,
    };
    // Set only on success: errors keep the API's `no-store`.
    c.header("Cache-Control", CACHE_CONTROL);
    return c.json(body);
  },
);
