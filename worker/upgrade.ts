/** WebSocket upgrade preconditions shared by every socket route. */
import type { Context } from "hono";
import { SUBPROTOCOL } from "../src/protocol/limits.ts";
import { ApiError } from "./api-error.ts";

/** The subprotocols the client offered in `Sec-WebSocket-Protocol`. */
export function offeredProtocols(c: Context): string[] {
  return (c.req.header("sec-websocket-protocol") ?? "")
    .split(",")
    .map((protocol) => protocol.trim())
    .filter(Boolean);
}

/**
 * Throws 426 `upgrade_required` unless the request is a WebSocket upgrade, and 400
 * `subprotocol_required` unless it offers `parley.v1` (the server always selects it, and
 * clients fail a handshake that selects a protocol they did not offer).
 */
export function assertUpgrade(c: Context): void {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint speaks WebSocket only.");
  }
  if (!offeredProtocols(c).includes(SUBPROTOCOL)) {
    throw new ApiError(400, "subprotocol_required", `Offer the "${SUBPROTOCOL}" subprotocol.`);
  }
}
