/**
 * The permission each socket action needs (DESIGN invariant 3 inside the Durable Objects).
 * The tables are typed as exhaustive records over the frame unions, so a new frame type
 * does not compile until it declares its permission (`null`: any agent on their own socket
 * or chat). A worker test drives every entry over real sockets.
 */
import type { ChatClientFrame } from "../protocol/chat-frames.ts";
import type { DispatcherClientFrame } from "../protocol/dispatcher-frames.ts";
import type { Permission } from "./permissions.ts";

/** Agent → Dispatcher frames. */
export const DISPATCHER_ACTIONS = {
  status: null,
  accept: "chats.accept",
  refuse: "chats.refuse",
  // Invitations are personal: only the invited agent can answer, and inviting was checked
  // (`chats.invite`) when it was sent.
  accept_invitation: null,
  decline_invitation: null,
} as const satisfies Record<DispatcherClientFrame["type"], Permission | null>;

/**
 * Who may send each chat frame: the visitor (`true`/`false`), and agents on their own chat
 * (a permission, `null` for any agent, `false` for none). Monitors send nothing.
 */
export const CHAT_ACTIONS = {
  hello: { visitor: true, agent: null },
  message: { visitor: true, agent: null },
  typing: { visitor: true, agent: null },
  end: { visitor: true, agent: null },
  "secure_form.request": { visitor: false, agent: "secure_form.request" },
  "secure_form.submit": { visitor: true, agent: false },
  "secure_form.view": { visitor: false, agent: "secure_form.view" },
  whisper: { visitor: false, agent: null },
  transfer: { visitor: false, agent: "chats.transfer" },
  invite: { visitor: false, agent: "chats.invite" },
  leave: { visitor: false, agent: null },
} as const satisfies Record<
  ChatClientFrame["type"],
  { visitor: boolean; agent: Permission | null | false }
>;

/**
 * Opening a chat socket, by mode: `participate` needs the agent to be in the chat (its owner,
 * or joined or invited); `join` adds an agent of the chat's department as a second agent;
 * `monitor` watches silently. `join` and `monitor` also need the chat's department.
 */
export const CHAT_SOCKET_MODES = {
  participate: null,
  join: "chats.join",
  monitor: "chats.monitor",
} as const satisfies Record<"participate" | "join" | "monitor", Permission | null>;
