/**
 * The one error shape of the HTTP API: `{"error": {"code", "message"}}` with a 4xx status
 * for anything the caller did wrong. Routes throw ApiError; `app.onError` renders it.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorBody } from "../src/protocol/http.ts";

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details: unknown;

  constructor(status: ContentfulStatusCode, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The JSON body of this error. */
  toBody(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }
}
