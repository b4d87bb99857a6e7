/**
 * Security alerts as they leave the deployment (PCI DSS 4.0.1 10.7, 12.10.5; ASVS 5.0 V16):
 * the JSON body and its signature. A receiver checks that an alert is ours and fresh:
 *
 * - `X-Parley-Timestamp`: Unix seconds when it was sent;
 * - `X-Parley-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with ALERT_WEBHOOK_SECRET,
 *   of `${timestamp}.${body}` (the raw body bytes as received).
 *
 * Signing the timestamp with the body stops a replay under a new time; the receiver refuses
 * a timestamp more than a few minutes off its clock (see docs/operations.md).
 */
import type { AuditChainProblemKind } from "./audit-chain.ts";
import { hmacSha256, toHex } from "./hmac.ts";

/** What raised an alert. */
export type AlertType = "failed_logins" | "lockouts" | "ip_denials" | "audit_chain_broken";

/** The JSON body of an alert. */
export interface AlertPayload {
  type: AlertType;
  /** Events counted in the window when it fired: one more than the threshold (1 for a broken chain). */
  count: number;
  /** The window's length, in seconds. */
  window: number;
  /** When it fired (ISO 8601, UTC). */
  at: string;
  /** ALERT_DEPLOYMENT_NAME, when set. */
  deployment?: string;
  /** For `audit_chain_broken`: the first row that does not verify, and why. */
  problem?: { id: number; kind: AuditChainProblemKind };
}

export const SIGNATURE_HEADER = "X-Parley-Signature";
export const TIMESTAMP_HEADER = "X-Parley-Timestamp";

/** `sha256=<hex HMAC-SHA256 of "${timestamp}.${body}">`. */
export async function signAlert(
  secret: Uint8Array,
  timestamp: number,
  body: string,
): Promise<string> {
  return `sha256=${toHex(await hmacSha256(secret, `${timestamp}.${body}`))}`;
}

/** The headers of an alert POST sent at `nowMs`. */
export async function alertHeaders(
  secret: Uint8Array,
  body: string,
  nowMs: number,
): Promise<Record<string, string>> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "content-type": "application/json",
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: await signAlert(secret, timestamp, body),
  };
}
