/**
 * Routing and allocation rules per department (`/api/routing/…`), shared by the Worker, the
 * Dispatcher and the console. A department without rules routes least busy first with the
 * deployment's OFFER_TIMEOUT, no overflow, and is always open.
 */
import { z } from "zod";
import { departmentId } from "./http.ts";
import { segmentId } from "./segments.ts";

/** How a department's waiting chats reach agents. */
export const ROUTING_STRATEGIES = ["least_busy", "round_robin", "manual"] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** Days of the week as business-hour keys, Monday first (ISO 8601). */
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clockTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "a time HH:MM (24 h)");

/** An opening window within one day, local time; `to` is exclusive and may be `24:00`. */
const openingWindow = z
  .object({ from: clockTime, to: clockTime })
  .strict()
  .refine((w) => w.from < w.to, "from must be before to");

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Weekly opening hours in an IANA time zone, with closed dates (holidays). */
export const businessHours = z
  .object({
    timezone: z.string().min(1).max(64).refine(isTimeZone, "an IANA time zone, e.g. Europe/Berlin"),
    week: z
      .object(
        Object.fromEntries(
          WEEKDAYS.map((day) => [day, z.array(openingWindow).max(4).default([])]),
        ) as Record<Weekday, z.ZodDefault<z.ZodArray<typeof openingWindow>>>,
      )
      .strict(),
    /** Local dates (YYYY-MM-DD) the department is closed all day. */
    closedDates: z
      .array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"))
      .max(100)
      .default([]),
  })
  .strict();
export type BusinessHours = z.infer<typeof businessHours>;

/** `PUT /api/routing/rules/:department` — the whole rule set of one department. */
export const routingRuleRequest = z
  .object({
    strategy: z.enum(ROUTING_STRATEGIES).default("least_busy"),
    /** Seconds an agent has to answer an offer; null: OFFER_TIMEOUT. */
    offerTimeoutSeconds: z.number().int().min(5).max(600).nullable().default(null),
    /** Waiting chats move to this department after `overflowAfterSeconds`. */
    overflowTo: departmentId.nullable().default(null),
    overflowAfterSeconds: z.number().int().min(10).max(3600).nullable().default(null),
    /** Null: always open. Outside them, chat start answers `offline` (`outside_hours`). */
    businessHours: businessHours.nullable().default(null),
    /**
     * Visitor segments served first: a waiting chat whose visitor is in one of them goes
     * ahead of the others (then oldest first), in offers and in queue positions.
     */
    prioritySegments: z
      .array(segmentId)
      .max(10)
      .refine((ids) => new Set(ids).size === ids.length, "no duplicates")
      .default([]),
  })
  .strict()
  .refine(
    (r) => (r.overflowTo === null) === (r.overflowAfterSeconds === null),
    "overflowTo and overflowAfterSeconds go together",
  );
export type RoutingRuleRequest = z.infer<typeof routingRuleRequest>;

/** A department's stored rules. */
export interface RoutingRule extends RoutingRuleRequest {
  departmentId: string;
  updatedAt: number;
  updatedBy: string | null;
}

/** `GET /api/routing/rules[/:department]`: a department's rules, or the defaults it routes by. */
export interface RoutingRuleView extends RoutingRuleRequest {
  departmentId: string;
  departmentName: string;
  /** True when the department has no rules of its own: these are the defaults. */
  default: boolean;
  updatedAt: number | null;
  updatedBy: string | null;
}

/** `PUT /api/routing/capacity/:agentId` — the most chats the agent takes at once. */
export const agentCapacityRequest = z
  .object({
    /** Null: the deployment's AGENT_MAX_CHATS (the same 1–50 range). */
    maxChats: z.number().int().min(1).max(50).nullable(),
  })
  .strict();

/** The answer to a capacity change: the stored value and the capacity in effect. */
export interface AgentCapacityResponse {
  agentId: string;
  maxChats: number | null;
  capacity: number;
}
