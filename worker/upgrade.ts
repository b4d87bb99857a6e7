/** WebSocket upgrade preconditions shared by every socket route. */
import type { Context } from "hono";
import { ApiError } from "./api-error.ts";

/** Throws 426 `upgrade_required` unless the request is a WebSocket upgrade. */
export function assertUpgrade(c: Context): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint speaks WebSocket only.");
  }
}
