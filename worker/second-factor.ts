/** Checks a second factor: a TOTP code (each time step once) or a one-time recovery code. */
import { hashRecoveryCode, normaliseRecoveryCode, verifyTotp } from "../src/security/totp.ts";
import { claimTotpStep, spendRecoveryCode } from "../src/store/mfa.ts";

/** True when `code` is a valid, unused TOTP code or recovery code of the agent. */
export async function verifySecondFactor(
  db: D1Database,
  agentId: string,
  secret: string,
  code: string,
): Promise<boolean> {
  if (/^\d{3}\s?\d{3}$/.test(code.trim())) {
    const result = await verifyTotp(secret, code);
    return result.ok && (await claimTotpStep(db, agentId, result.step));
  }
  const normalised = normaliseRecoveryCode(code);
  if (normalised.length < 16 || normalised.length > 32) return false;
  return spendRecoveryCode(db, agentId, await hashRecoveryCode(normalised));
}
