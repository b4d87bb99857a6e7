/** Liveness and readiness: answers 200 when the configuration is valid and D1 answers. */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", async (c) => {
  await c.env.DB.prepare("SELECT 1").first();
  return c.json({ status: "ok" });
});
