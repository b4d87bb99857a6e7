/**
 * Bindings and variables of the Worker and its Durable Objects (see wrangler.toml).
 * Vars arrive as strings; `src/config.ts` parses them into a typed Config.
 */
import type { ChatSession } from "../durable-objects/chat-session.ts";
import type { Dispatcher } from "../durable-objects/dispatcher.ts";

export interface Env {
  DB: D1Database;
  CHAT_SESSION: DurableObjectNamespace<ChatSession>;
  DISPATCHER: DurableObjectNamespace<Dispatcher>;
  ASSETS: Fetcher;
  /** Secret: HMAC key for session and visitor JWTs (≥ 32 bytes). */
  SESSION_KEY?: string;
  WIDGET_ORIGINS?: string;
  CONSOLE_ORIGINS?: string;
  SESSION_IDLE_MINUTES?: string;
  SESSION_ABSOLUTE_HOURS?: string;
  VISITOR_TOKEN_HOURS?: string;
  OFFER_TIMEOUT_SECONDS?: string;
  AGENT_MAX_CHATS?: string;
}
