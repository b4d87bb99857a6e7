/**
 * `GET /api/widget/availability`: for each department, whether a chat started now would
 * reach an agent — the two tests of chat start (worker/routes/visitor.ts): the department's
 * business hours, then the Dispatcher's "an agent of it is online". Public like the widget
 * configuration (mounted under `/api/widget`, so it has the widget's CORS grant), but never
 * cached (the security headers' default `no-store`): it changes whenever an agent comes or goes.
 * It says online yes or no and nothing more: no agent count, no names.
 */
import { Hono } from "hono";
import { getDispatcher } from "../../durable-objects/dispatcher.ts";
import { isOpen } from "../../src/desk/business-hours.ts";
import {
  type WidgetAvailability,
  widgetAvailabilityQuery,
} from "../../src/protocol/widget-availability.ts";
import { departmentChoices } from "../../src/store/campaigns.ts";
import { loadRoutingRules } from "../../src/store/routing-rules.ts";
import type { AppEnv } from "../app-env.ts";
import { publicRoute } from "../middleware/access.ts";
import { clientIpKey, MINUTE_MS, rateLimit } from "../middleware/rate-limit.ts";
import { readQuery } from "../read-query.ts";

export const widgetAvailabilityRoutes = new Hono<AppEnv>();

widgetAvailabilityRoutes.get(
  "/availability",
  publicRoute(),
  // First, so a flood never reaches the Dispatcher. The configuration's per-IP limit, counted
  // apart: a widget asks for both, the availability only when its picker is on screen.
  rateLimit(
    "widget-availability",
    clientIpKey,
    (config) => config.rateLimits.widgetConfigPerIpPerMinute,
    MINUTE_MS,
  ),
  async (c) => {
    readQuery(c, widgetAvailabilityQuery);
    const now = Date.now();
    const [departments, rules] = await Promise.all([
      departmentChoices(c.env.DB),
      loadRoutingRules(c.env.DB),
    ]);
    // Closed departments answer offline at chat start before the Dispatcher is asked.
    const open = departments
      .filter(({ id }) => isOpen(rules.get(id)?.businessHours ?? null, now))
      .map(({ id }) => id);
    const staffed = new Set(await getDispatcher(c.env).staffedDepartments(open));
    const body: WidgetAvailability = {
      departments: departments.map(({ id }) => ({ id, online: staffed.has(id) })),
    };
    return c.json(body);
  },
);
