/**
 * The console's HTTP calls. The console is served from the API's origin (the Worker in local
 * dev, or a Pages project that proxies `/api`), so every call is same-origin and the
 * `SameSite=Strict` session cookie rides along.
 */
import { ApiError, type ApiResponse, requestJson } from "../client/http.ts";
import type {
  AgentSessionResponse,
  ChangePasswordRequest,
  LoginRequest,
  ResetPasswordRequest,
} from "../protocol/http.ts";
import type { AltchaChallenge } from "../security/captcha.ts";
import { apiCredentials, apiUrl } from "./api-origin.ts";

/**
 * Every console API call: to the API's origin (api-origin.ts), with the session cookie.
 * Resolves for 2xx; rejects with an {@link ApiError}.
 */
export function apiRequest<T>(
  path: string,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  body?: unknown,
): Promise<ApiResponse<T>> {
  return requestJson<T>(apiUrl(path), method, body, apiCredentials());
}

/** `GET /api/auth/captcha`: what the configured CAPTCHA provider needs. */
export type CaptchaChallengeResponse =
  | { provider: "altcha"; challenge: AltchaChallenge }
  | { provider: "turnstile"; siteKey: string; action: string };

/** One of the agent's live sessions (`GET /api/auth/sessions`). */
export interface SessionInfo {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
  /** The session this console is using. */
  current: boolean;
}

/** The signed-in agent and whether their password has expired, or null without a session. */
export async function fetchMe(): Promise<AgentSessionResponse | null> {
  try {
    return (await apiRequest<AgentSessionResponse>("/api/auth/me", "GET")).data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * Signs in; rejects with an {@link ApiError} (wrong credentials, CAPTCHA needed, lockout, …)
 * whose `details` say whether the next attempt needs a CAPTCHA.
 */
export async function login(credentials: LoginRequest): Promise<AgentSessionResponse> {
  return (await apiRequest<AgentSessionResponse>("/api/auth/login", "POST", credentials)).data;
}

/** Ends the session server-side. Errors are swallowed: the UI signs out either way. */
export async function logout(): Promise<void> {
  await apiRequest("/api/auth/logout", "POST").catch(() => undefined);
}

/** A fresh CAPTCHA challenge (each solution is accepted once). */
export async function fetchCaptcha(): Promise<CaptchaChallengeResponse> {
  return (await apiRequest<CaptchaChallengeResponse>("/api/auth/captcha", "GET")).data;
}

/** Changes the password; the server ends every other session of the agent. */
export async function changePassword(body: ChangePasswordRequest): Promise<void> {
  await apiRequest("/api/auth/password", "POST", body);
}

/**
 * Sets a new password with a one-time link's token (no session needed); rejects with 400
 * `invalid_token`, `password_policy`, `password_reused` or `invalid_request`.
 */
export async function resetPassword(token: string, newPassword: string): Promise<void> {
  const body: ResetPasswordRequest = { token, newPassword };
  await apiRequest("/api/auth/password/reset", "POST", body);
}

/** The agent's live sessions, most recently active first. */
export async function listSessions(): Promise<SessionInfo[]> {
  return (await apiRequest<{ sessions: SessionInfo[] }>("/api/auth/sessions", "GET")).data.sessions;
}

/** Revokes one of the agent's sessions. */
export async function revokeSession(id: string): Promise<void> {
  await apiRequest(`/api/auth/sessions/${encodeURIComponent(id)}`, "DELETE");
}

/** `POST /api/auth/mfa/setup`: a new TOTP secret, pending until confirmed. */
export interface MfaSetupResponse {
  /** Base32, for typing into an authenticator app by hand. */
  secret: string;
  /** `otpauth://totp/…`, the same secret for apps that open links. */
  uri: string;
}

/** Starts enrolment in two-factor authentication (409 `mfa_already_enabled` when on). */
export async function startMfaSetup(): Promise<MfaSetupResponse> {
  return (await apiRequest<MfaSetupResponse>("/api/auth/mfa/setup", "POST")).data;
}

/** Turns two-factor authentication on with a code from the app; resolves the recovery codes. */
export async function confirmMfa(code: string): Promise<string[]> {
  const body = { code };
  return (await apiRequest<{ recoveryCodes: string[] }>("/api/auth/mfa/confirm", "POST", body)).data
    .recoveryCodes;
}

/** Turns two-factor authentication off (403 `mfa_required` when it is required of the agent). */
export async function disableMfa(password: string, code: string): Promise<void> {
  await apiRequest("/api/auth/mfa/disable", "POST", { password, code });
}

/**
 * Renews the session's proof of identity (after a 403 `reauth_required`): the password, and
 * for agents enrolled in MFA a code (401 `mfa_required` without one).
 */
export async function reauthenticate(password: string, totp?: string): Promise<void> {
  await apiRequest("/api/auth/reauth", "POST", totp ? { password, totp } : { password });
}
