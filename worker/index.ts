/** Worker entry: the Hono app, and the Durable Object classes wrangler binds. */
import { createApp } from "./app.ts";

export { ChatSession } from "../durable-objects/chat-session.ts";
export { Dispatcher } from "../durable-objects/dispatcher.ts";

export default createApp();
