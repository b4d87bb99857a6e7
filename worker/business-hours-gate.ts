/** Chat start outside a department's business hours (routing rules, `src/desk/business-hours.ts`). */
import { isOpen, nextOpening } from "../src/desk/business-hours.ts";
import type { StartChatResponse } from "../src/protocol/http.ts";
import { findRoutingRule } from "../src/store/routing-rules.ts";

/**
 * The offline answer when `department` is closed at `now`, with when it opens next (null:
 * not within 14 days), so the widget can say so; null when it is open (or has no hours).
 */
export async function outsideHours(
  db: D1Database,
  department: string,
  now: number,
): Promise<Extract<StartChatResponse, { reason: "outside_hours" }> | null> {
  const hours = (await findRoutingRule(db, department))?.businessHours ?? null;
  if (isOpen(hours, now)) return null;
  return { offline: true, reason: "outside_hours", opensAt: nextOpening(hours, now) };
}
