import { decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  keyId,
  signSessionToken,
  signVisitorToken,
  verifySessionToken,
  verifyVisitorToken,
} from "../../src/security/tokens.ts";

const encoder = new TextEncoder();
const OLD = encoder.encode("o".repeat(40));
const NEW = encoder.encode("n".repeat(40));
const claims = { sub: "agent-1", sid: "session-1" };

describe("session and visitor tokens", () => {
  it("name their key with a kid derived from it", async () => {
    const token = await signSessionToken(claims, NEW, 60);
    expect(decodeProtectedHeader(token)).toEqual({
      alg: "HS256",
      typ: "JWT",
      kid: await keyId(NEW),
    });
    expect(await keyId(NEW)).not.toBe(await keyId(OLD));
  });

  it("verify with the previous key during a rotation, and not after it", async () => {
    const old = await signSessionToken(claims, OLD, 60);
    expect(await verifySessionToken(old, [NEW, OLD])).toEqual(claims);
    expect(await verifySessionToken(old, [NEW])).toBeNull();
    expect(await verifySessionToken(await signSessionToken(claims, NEW, 60), [NEW, OLD])).toEqual(
      claims,
    );
  });

  it("refuse the other audience, expiry, a future nbf and alg none", async () => {
    const visitor = await signVisitorToken({ sub: "v", chat: "c" }, NEW, 60);
    expect(await verifySessionToken(visitor, NEW)).toBeNull();
    expect(await verifyVisitorToken(visitor, NEW)).toEqual({ sub: "v", chat: "c" });
    expect(await verifySessionToken(await signSessionToken(claims, NEW, -5), NEW)).toBeNull();
    const future = await new SignJWT({ sid: "s" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .setIssuer("parley")
      .setAudience("agent")
      .setNotBefore("1h")
      .setExpirationTime("2h")
      .sign(NEW);
    expect(await verifySessionToken(future, NEW)).toBeNull();
    const b64 = (value: unknown) =>
      btoa(JSON.stringify(value)).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
    const none = `${b64({ alg: "none" })}.${b64({ sub: "a", sid: "s", iss: "parley", aud: "agent", exp: 9e9 })}.`;
    expect(await verifySessionToken(none, NEW)).toBeNull();
  });

  it("refuse garbage without throwing", async () => {
    for (const garbage of [
      "",
      "a.b.c",
      "not a token",
      "eyJhbGciOiJIUzI1NiJ9..",
      "x".repeat(5000),
    ]) {
      expect(await verifySessionToken(garbage, NEW)).toBeNull();
    }
  });

  it("refuse a token with no expiry", async () => {
    const endless = await new SignJWT({ sid: "s" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .setIssuer("parley")
      .setAudience("agent")
      .sign(NEW);
    expect(await verifySessionToken(endless, NEW)).toBeNull();
  });
});
