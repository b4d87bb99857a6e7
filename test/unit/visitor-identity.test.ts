import { base64url, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { identityVisitorId, verifyVisitorIdentity } from "../../src/security/visitor-identity.ts";

const encoder = new TextEncoder();
const SECRET = encoder.encode("site-identity-secret-0123456789abcdef");
const OTHER = encoder.encode("another-identity-secret-0123456789abcd");

function sign(
  claims: Record<string, unknown>,
  options: { key?: Uint8Array; alg?: string; exp?: string | number | null } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: options.alg ?? "HS256" });
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? "10m");
  return jwt.sign(options.key ?? SECRET);
}

/** An unsigned JWT (`alg: none`), which jose will not produce itself. */
function unsigned(claims: Record<string, unknown>): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

describe("verifyVisitorIdentity", () => {
  it("accepts an HS256 identity and returns its claims", async () => {
    const jwt = await sign({ sub: "user-42", name: "Ada Lovelace", email: "ada@example.com" });
    expect(await verifyVisitorIdentity(jwt, SECRET)).toEqual({
      ok: true,
      identity: { sub: "user-42", name: "Ada Lovelace", email: "ada@example.com" },
    });
  });

  it("treats a missing or empty name and email as not given", async () => {
    const jwt = await sign({ sub: "user-42", name: "", email: "" });
    expect(await verifyVisitorIdentity(jwt, SECRET)).toEqual({
      ok: true,
      identity: { sub: "user-42", name: null, email: null },
    });
    const bare = await sign({ sub: "user-43" });
    expect(await verifyVisitorIdentity(bare, SECRET)).toMatchObject({ ok: true });
  });

  it("masks card numbers in name and email, per masking mode", async () => {
    const jwt = await sign({
      sub: "u",
      name: "Card 4111 1111 1111 1111 exp 12/29",
      email: "4111111111111111@example.com",
    });
    const standard = await verifyVisitorIdentity(jwt, SECRET);
    expect(standard).toEqual({
      ok: true,
      identity: {
        sub: "u",
        name: "Card •••• •••• •••• 1111 exp 12/29",
        email: "••••••••••••1111@example.com",
      },
    });
    const strict = await verifyVisitorIdentity(jwt, SECRET, { mode: "strict" });
    expect(strict.ok && strict.identity.name).not.toContain("12/29");
  });

  it("reports an expired identity as expired", async () => {
    const jwt = await sign({ sub: "u" }, { exp: Math.floor(Date.now() / 1000) - 60 });
    expect(await verifyVisitorIdentity(jwt, SECRET)).toEqual({ ok: false, reason: "expired" });
    const later = await sign({ sub: "u" }, { exp: "5m" });
    expect(await verifyVisitorIdentity(later, SECRET, { now: Date.now() + 600_000 })).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it.each([
    ["the wrong key", () => sign({ sub: "u" }, { key: OTHER })],
    ["alg none", async () => unsigned({ sub: "u", exp: Math.floor(Date.now() / 1000) + 600 })],
    ["HS512 (not allowlisted)", () => sign({ sub: "u" }, { alg: "HS512" })],
    ["no exp", () => sign({ sub: "u" }, { exp: null })],
    ["no sub", () => sign({ name: "Ada" })],
    ["a numeric sub", () => sign({ sub: 42 })],
    ["a sub over 256 characters", () => sign({ sub: "x".repeat(257) })],
    ["a control character in sub", () => sign({ sub: "a\nb" })],
    ["a malformed email", () => sign({ sub: "u", email: "not-an-email" })],
    ["a name over 100 characters", () => sign({ sub: "u", name: "x".repeat(101) })],
    ["a non-string name", () => sign({ sub: "u", name: { first: "Ada" } })],
    ["garbage", async () => "not.a.jwt"],
    ["an empty string", async () => ""],
    ["a token over 4 KB", async () => `${await sign({ sub: "u" })}${"A".repeat(4096)}`],
  ])("refuses %s as invalid", async (_, make) => {
    expect(await verifyVisitorIdentity(await make(), SECRET)).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  it("refuses a tampered payload", async () => {
    const jwt = await sign({ sub: "user-1" });
    const [header, , signature] = jwt.split(".");
    const forged = base64url.encode(JSON.stringify({ sub: "admin", exp: 9_999_999_999 }));
    expect(await verifyVisitorIdentity(`${header}.${forged}.${signature}`, SECRET)).toEqual({
      ok: false,
      reason: "invalid",
    });
  });
});

describe("identityVisitorId", () => {
  it("is a stable UUID per subject and secret, revealing nothing of the subject", async () => {
    const id = await identityVisitorId("user-42", SECRET);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await identityVisitorId("user-42", SECRET)).toBe(id);
    expect(await identityVisitorId("user-43", SECRET)).not.toBe(id);
    expect(await identityVisitorId("user-42", OTHER)).not.toBe(id);
  });
});
