/** Hono's typing of this app: bindings and the values middleware sets on the context. */
import type { Config } from "../src/config.ts";
import type { AgentRecord } from "../src/store/agents.ts";
import type { SessionRecord } from "../src/store/sessions.ts";
import type { Env } from "./env.ts";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    /** Set by `requestLog`: this request's id (its `cf-ray`, else random), in logs and `X-Request-Id`. */
    requestId: string;
    /** Set by `requireAgent`. */
    agent: AgentRecord;
    /** Set by `requireAgent`. */
    session: SessionRecord;
  };
}
