/**
 * The console's HTTP calls. The console is served from the API's origin (the Worker in local
 * dev, or a Pages project that proxies `/api`), so every call is same-origin and the
 * `SameSite=Strict` session cookie rides along.
 */
import { ApiError, requestJson, toWsBase } from "../client/http.ts";
import type { AgentProfile, AgentSessionResponse, LoginRequest } from "../protocol/http.ts";

/** `ws:`/`wss:` origin for the console's sockets. */
export const WS_BASE = toWsBase(location.origin);

/** The signed-in agent, or null when there is no valid session (401). */
export async function fetchMe(): Promise<AgentProfile | null> {
  try {
    return (await requestJson<AgentSessionResponse>("/api/auth/me", "GET")).data.agent;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Signs in; rejects with the server's message (wrong credentials, lockout, …). */
export async function login(credentials: LoginRequest): Promise<AgentProfile> {
  return (await requestJson<AgentSessionResponse>("/api/auth/login", "POST", credentials)).data
    .agent;
}

/** Ends the session server-side. Errors are swallowed: the UI signs out either way. */
export async function logout(): Promise<void> {
  await requestJson("/api/auth/logout", "POST").catch(() => undefined);
}
