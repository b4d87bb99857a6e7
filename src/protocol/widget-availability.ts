/**
 * `GET /api/widget/availability`: which departments a chat started now would reach, for the
 * widget's department picker. Kept apart from the widget configuration, which is cached for a
 * minute: agents come and go by the second.
 */
import { z } from "zod";

/** No parameters: the answer covers every department (the picker lists them all). */
export const widgetAvailabilityQuery = z.object({}).strict();

/** `GET /api/widget/availability` response body. */
export interface WidgetAvailability {
  /**
   * Every department, by id. `online`: it is within its business hours and an agent of it is
   * online (busy or not) — the test of chat start, which otherwise answers `offline`. Nothing
   * else about the agents (how many, who) is told.
   */
  departments: { id: string; online: boolean }[];
}
