/**
 * JSON over `fetch` for the browser apps: one place that turns HTTP errors into a readable
 * sentence (the server always answers `{error: {code, message}}`, DESIGN "Protocol").
 */
import type { ErrorBody } from "../protocol/http.ts";

/** A failed request: `status` 0 means the network failed before any answer came. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The error body's `details` (e.g. `{captchaRequired}`, `{retryAfterSeconds}`), if any. */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details =
      details && typeof details === "object" && !Array.isArray(details)
        ? (details as Record<string, unknown>)
        : {};
  }
}

/** A successful answer: its status (200, 201, …) and its parsed JSON body (null when empty). */
export interface ApiResponse<T> {
  status: number;
  data: T;
}

/**
 * Sends a request with an optional JSON body and parses the JSON answer.
 * Resolves for 2xx statuses; rejects with an {@link ApiError} otherwise.
 */
export async function requestJson<T>(
  url: string,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  body?: unknown,
  credentials: RequestCredentials = "same-origin",
  /** Extra request headers (the widget's survey sends its chat token as a bearer). */
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      credentials,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "Network error. Check your connection and try again.");
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // A non-JSON body (a proxy's HTML error page, say) is reported by status below.
  }
  if (res.ok) return { status: res.status, data: data as T };
  const error = (data as Partial<ErrorBody> | null)?.error;
  throw new ApiError(
    res.status,
    error?.code ?? "http_error",
    error?.message ?? `Request failed (HTTP ${res.status}).`,
    error?.details,
  );
}

/** The WebSocket origin matching an HTTP origin: `http:` → `ws:`, `https:` → `wss:`. */
export function toWsBase(httpBase: string): string {
  return httpBase.replace(/^http/, "ws");
}
