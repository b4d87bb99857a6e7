/**
 * Every `/api` endpoint of the app with its access declaration, read from the app itself:
 * the permission matrix and the console reachability check are generated from it.
 */
import { createApp } from "../../worker/app.ts";
import { declaredAccess, type RouteAccess } from "../../worker/middleware/access.ts";

export interface DeclaredRoute {
  method: string;
  path: string;
  access: RouteAccess | undefined;
}

/** Every `/api` endpoint (middleware entries excluded), with the access it declares. */
export function declaredRoutes(): DeclaredRoute[] {
  const byEndpoint = new Map<string, DeclaredRoute>();
  for (const route of createApp().routes) {
    if (!route.path.startsWith("/api/") || route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    const entry = byEndpoint.get(key) ?? {
      method: route.method,
      path: route.path,
      access: undefined,
    };
    entry.access ??= declaredAccess(route.handler);
    byEndpoint.set(key, entry);
  }
  return [...byEndpoint.values()];
}
