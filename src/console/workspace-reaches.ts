/**
 * What the workspace (the vanilla default screen: offers, queue, chat panels and their desk
 * controls, the account dialogs) reaches, in the notation of `Screen.reaches`: routes as
 * `METHOD /path` the way the Worker declares them, socket frames as `socket dispatcher:<type>`
 * or `socket chat:<type>`, chat socket modes as `socket chat-mode:<mode>`. The generated
 * reachability check (test/worker/console-reachability.test.ts) reads it with the screens'.
 */
export const WORKSPACE_REACHES: readonly string[] = [
  "GET /api/agent/ws",
  "GET /api/agent/chats/:id/ws",
  "GET /api/agent/colleagues",
  "GET /api/canned-messages",
  "socket dispatcher:status",
  "socket dispatcher:accept",
  "socket dispatcher:refuse",
  "socket dispatcher:accept_invitation",
  "socket dispatcher:decline_invitation",
  "socket chat:hello",
  "socket chat:message",
  "socket chat:typing",
  "socket chat:end",
  "socket chat:whisper",
  "socket chat:transfer",
  "socket chat:invite",
  "socket chat:leave",
  "socket chat:secure_form.request",
  "socket chat:secure_form.view",
  "socket chat-mode:participate",
  "socket chat-mode:join",
  "socket chat-mode:monitor",
];
