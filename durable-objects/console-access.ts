/**
 * What an agent may do on the console socket (agent ↔ Dispatcher): each guarded frame is
 * checked against D1 at the moment it arrives, and who may receive offers (`chats.accept`)
 * and for which departments is refreshed at every session check — so a withdrawn grant stops
 * the very next frame and the next offer. Denials are `error` frames and audit rows.
 */
import type { DispatcherServerFrame } from "../src/protocol/dispatcher-frames.ts";
import { DISPATCHER_ACTIONS } from "../src/security/action-permissions.ts";
import type { Permission } from "../src/security/permissions.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import { type AgentAccess, accessOf } from "../src/store/grants.ts";
import type { Env } from "../worker/env.ts";
import { appendAudit } from "./audit-log.ts";

/** Serialized with each console socket (≤ 2 KB), so it survives hibernation. */
export interface ConsoleAttachment {
  agentId: string;
  sessionId: string;
  /** Holds `chats.accept`: only such agents receive offers. */
  canAccept: boolean;
  ip: string | null;
  userAgent: string | null;
}

/** The attachment of a console socket. */
export function attachmentOf(ws: WebSocket): ConsoleAttachment {
  return ws.deserializeAttachment() as ConsoleAttachment;
}

/** Sends a frame on a console socket; a closed socket is cleaned up by webSocketClose. */
export function sendConsole(ws: WebSocket, frame: DispatcherServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // Closed under us.
  }
}

/** What the access checks need from the Dispatcher. */
export interface ConsoleAccessHost {
  env: Env;
  /** The agent's open console sockets. */
  socketsOf: (agentId: string) => WebSocket[];
  /** Takes back the agent's pending offers; answers whether there were any. */
  withdrawOffers: (agentId: string) => boolean;
  /** Updates the departments routing uses for the agent; answers whether they changed. */
  setDepartments: (agentId: string, departments: string[]) => boolean;
}

export class ConsoleAccess {
  readonly #host: ConsoleAccessHost;

  constructor(host: ConsoleAccessHost) {
    this.#host = host;
  }

  /**
   * Checks `needed` for the frame's agent now. `changed` says whether the agent's right to
   * receive offers changed on the way (then routing must run again).
   */
  async permits(
    ws: WebSocket,
    needed: Permission,
    frame: { type: string; chatId?: string },
  ): Promise<{ allowed: boolean; changed: boolean }> {
    const attachment = attachmentOf(ws);
    let access: AgentAccess;
    try {
      const all = await accessOf(this.#host.env.DB, [attachment.agentId]);
      access = all.get(attachment.agentId) ?? { permissions: [], departments: [] };
    } catch (error) {
      console.error("[parley] dispatcher: reading permissions failed", error);
      sendConsole(ws, { type: "error", code: "unavailable", message: "Try again in a moment." });
      return { allowed: false, changed: false };
    }
    const changed = this.#apply(attachment.agentId, access);
    if (access.permissions.includes(needed)) return { allowed: true, changed };
    await this.audit(attachment, {
      action: `chat.${frame.type}`,
      target: frame.chatId ?? null,
      outcome: "denied",
      details: { required: [needed] },
    });
    sendConsole(ws, {
      type: "error",
      code: "forbidden",
      message: "You do not have permission to do this.",
    });
    return { allowed: false, changed };
  }

  /** Re-reads the permissions of every connected agent; answers whether anything changed. */
  async refresh(sockets: WebSocket[]): Promise<boolean> {
    const ids = sockets.map((ws) => attachmentOf(ws).agentId);
    if (ids.length === 0) return false;
    let changed = false;
    try {
      for (const [agentId, access] of await accessOf(this.#host.env.DB, ids)) {
        if (this.#apply(agentId, access)) changed = true;
      }
    } catch (error) {
      console.error("[parley] dispatcher: refreshing permissions failed", error);
      return false; // the next check tries again
    }
    return changed;
  }

  /** Writes an audit row for the agent behind a console socket. */
  async audit(
    attachment: ConsoleAttachment,
    entry: Pick<AuditEntry, "action" | "target" | "outcome" | "details" | "department">,
  ): Promise<void> {
    await appendAudit(this.#host.env, {
      actorType: "agent",
      actorId: attachment.agentId,
      ip: attachment.ip,
      userAgent: attachment.userAgent,
      at: Date.now(),
      ...entry,
    });
  }

  /**
   * Records whether the agent may receive offers, and their current departments; one who
   * may not receive offers loses pending ones.
   */
  #apply(agentId: string, access: AgentAccess): boolean {
    const canAccept = access.permissions.includes(DISPATCHER_ACTIONS.accept);
    let changed = this.#host.setDepartments(agentId, access.departments);
    for (const ws of this.#host.socketsOf(agentId)) {
      const attachment = attachmentOf(ws);
      if (attachment.canAccept === canAccept) continue;
      ws.serializeAttachment({ ...attachment, canAccept });
      changed = true;
    }
    // Offers made under the old rights (no longer allowed, or another department) go back
    // to routing, which offers them again only where they are still allowed.
    if ((!canAccept || changed) && this.#host.withdrawOffers(agentId)) changed = true;
    return changed;
  }
}
