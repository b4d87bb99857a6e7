/** Parses the configuration for each request; an invalid one answers 503 (fails closed). */
import { createMiddleware } from "hono/factory";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { ApiError } from "../api-error.ts";
import type { AppEnv } from "../app-env.ts";

/** Sets `c.var.config`, or refuses every request with `503 config_invalid`. */
export const loadConfig = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    try {
      c.set("config", parseConfig(c.env as unknown as Record<string, unknown>));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`[parley] ${error.message}`);
      throw new ApiError(503, "config_invalid", "The service is misconfigured; see the logs.");
    }
    await next();
  });
