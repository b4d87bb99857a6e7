/**
 * Whether the agents watching a chat in `monitor` mode may still do so: the rule of the
 * socket handshake (`chats.monitor` and the chat's department), applied again at every
 * session check, so a withdrawn grant or department closes an open monitor socket.
 */
import { CHAT_SOCKET_MODES } from "../src/security/action-permissions.ts";
import { type AgentAccess, accessOf } from "../src/store/grants.ts";

/**
 * The monitors (socket, agent id) of a chat in `department` that lost the right to watch it.
 * Null when D1 could not answer: nothing is closed, and the next check tries again.
 */
export async function withdrawnMonitors(
  db: D1Database,
  department: string,
  monitors: readonly [WebSocket, string][],
): Promise<WebSocket[] | null> {
  if (monitors.length === 0) return [];
  let access: Map<string, AgentAccess>;
  try {
    access = await accessOf(db, [...new Set(monitors.map(([, agentId]) => agentId))]);
  } catch (error) {
    console.error("[parley] checking monitor permissions failed", error);
    return null;
  }
  return monitors
    .filter(([, agentId]) => {
      const now = access.get(agentId);
      return !(
        now?.permissions.includes(CHAT_SOCKET_MODES.monitor) && now.departments.includes(department)
      );
    })
    .map(([ws]) => ws);
}
