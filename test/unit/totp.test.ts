import { describe, expect, it } from "vitest";
import {
  base32Decode,
  base32Encode,
  generateRecoveryCodes,
  generateTotp,
  generateTotpSecret,
  hashRecoveryCode,
  hotp,
  normaliseRecoveryCode,
  totpStep,
  totpUri,
  verifyTotp,
} from "../../src/security/totp.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

/** The RFC 4226 / RFC 6238 test secret: the ASCII string "12345678901234567890". */
const RFC_KEY = ascii("12345678901234567890");
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("base32 (RFC 4648)", () => {
  // RFC 4648 §10 test vectors.
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "MY======"],
    ["fo", "MZXQ===="],
    ["foo", "MZXW6==="],
    ["foob", "MZXW6YQ="],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI======"],
  ];

  it("encodes the RFC 4648 test vectors, with and without padding", () => {
    for (const [text, encoded] of vectors) {
      expect(base32Encode(ascii(text), { padding: true })).toBe(encoded);
      expect(base32Encode(ascii(text))).toBe(encoded.replace(/=+$/, ""));
    }
  });

  it("decodes the RFC 4648 test vectors, padded or not, in either case", () => {
    for (const [text, encoded] of vectors) {
      expect(base32Decode(encoded)).toEqual(ascii(text));
      expect(base32Decode(encoded.replace(/=+$/, ""))).toEqual(ascii(text));
      expect(base32Decode(encoded.toLowerCase())).toEqual(ascii(text));
    }
    expect(base32Decode("MZXW 6YTB OI")).toEqual(ascii("foobar"));
  });

  it("round-trips random bytes of every length up to 64", () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
      expect(base32Decode(base32Encode(bytes, { padding: true }))).toEqual(bytes);
    }
  });

  it("refuses characters outside the alphabet and impossible lengths", () => {
    for (const bad of ["MZXW0", "MZXW1===", "MZXW8", "MZ-XW", "MZXW6YT!", "É"]) {
      expect(() => base32Decode(bad)).toThrow(TypeError);
    }
    for (const bad of ["M", "MZX", "MZXW6Y", "MZXW6YTBO"]) {
      expect(() => base32Decode(bad)).toThrow(TypeError);
    }
  });

  it("encodes the RFC 6238 test secret as authenticator apps expect", () => {
    expect(base32Encode(RFC_KEY)).toBe(RFC_SECRET);
  });
});

describe("HOTP (RFC 4226)", () => {
  it("produces the RFC 4226 Appendix D values", async () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    for (const [counter, code] of expected.entries()) {
      expect(await hotp(RFC_KEY, counter)).toBe(code);
    }
  });
});

describe("TOTP (RFC 6238)", () => {
  // RFC 6238 Appendix B, SHA-1 rows: Unix time (s) → 8-digit TOTP.
  const vectors: Array<[number, string]> = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];

  it("produces the RFC 6238 Appendix B SHA-1 values", async () => {
    for (const [seconds, code] of vectors) {
      expect(await generateTotp(RFC_SECRET, { now: seconds * 1000, digits: 8 })).toBe(code);
    }
  });

  it("verifies the 6-digit form of each RFC vector at its time and returns the step", async () => {
    for (const [seconds, code] of vectors) {
      const now = seconds * 1000;
      expect(await verifyTotp(RFC_SECRET, code.slice(-6), { now })).toEqual({
        ok: true,
        step: Math.floor(seconds / 30),
      });
    }
  });

  it("accepts the neighbouring steps (±30 s of drift) and names the step matched", async () => {
    const secret = generateTotpSecret();
    const now = Date.UTC(2030, 5, 1, 12, 0, 15);
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) {
      const code = await generateTotp(secret, { now: now + offset * 30_000 });
      expect(await verifyTotp(secret, code, { now })).toEqual({ ok: true, step: step + offset });
    }
  });

  it("refuses codes two steps away, unless the window is widened", async () => {
    const secret = generateTotpSecret();
    const now = Date.UTC(2030, 5, 1, 12, 0, 15);
    for (const offset of [-2, 2]) {
      const code = await generateTotp(secret, { now: now + offset * 30_000 });
      // A code of a far step could match the current one by chance (1 in 10^6 per step).
      if (code === (await generateTotp(secret, { now }))) continue;
      expect(await verifyTotp(secret, code, { now })).toEqual({ ok: false });
      expect(await verifyTotp(secret, code, { now, window: 2 })).toEqual({
        ok: true,
        step: totpStep(now) + offset,
      });
    }
  });

  it("accepts only the current step with a window of 0", async () => {
    const secret = generateTotpSecret();
    const now = Date.UTC(2030, 5, 1, 12, 0, 15);
    const previous = await generateTotp(secret, { now: now - 30_000 });
    const current = await generateTotp(secret, { now });
    expect(await verifyTotp(secret, current, { now, window: 0 })).toMatchObject({ ok: true });
    if (previous !== current) {
      expect(await verifyTotp(secret, previous, { now, window: 0 })).toEqual({ ok: false });
    }
  });

  it("refuses codes of the wrong length or with anything but ASCII digits", async () => {
    const now = 59_000;
    const good = "287082";
    expect(await verifyTotp(RFC_SECRET, good, { now })).toMatchObject({ ok: true });
    expect(await verifyTotp(RFC_SECRET, "287 082", { now })).toMatchObject({ ok: true });
    const bad = [
      "",
      "28708",
      "2870820",
      "94287082",
      "28708a",
      "-87082",
      "28708.",
      "２８７０８２", // full-width digits
      "287082\n",
      "0x1234",
    ];
    for (const code of bad) {
      expect(await verifyTotp(RFC_SECRET, code, { now })).toEqual({ ok: false });
    }
  });

  it("refuses another secret's code", async () => {
    const now = Date.now();
    const code = await generateTotp(generateTotpSecret(), { now });
    const other = generateTotpSecret();
    if (code !== (await generateTotp(other, { now }))) {
      expect(await verifyTotp(other, code, { now, window: 0 })).toEqual({ ok: false });
    }
  });

  it("uses the real clock by default", async () => {
    const secret = generateTotpSecret();
    const result = await verifyTotp(secret, await generateTotp(secret));
    expect(result).toMatchObject({ ok: true });
  });

  it("refuses a bad window or a secret under 128 bits as a programming error", async () => {
    for (const window of [-1, 1.5, 11, Number.NaN]) {
      await expect(verifyTotp(RFC_SECRET, "287082", { window })).rejects.toThrow(RangeError);
    }
    await expect(verifyTotp("MZXW6YTB", "123456")).rejects.toThrow(TypeError);
    await expect(verifyTotp("not base32!", "123456")).rejects.toThrow(TypeError);
  });
});

describe("generateTotpSecret and totpUri", () => {
  it("generates distinct 160-bit base32 secrets", () => {
    const secrets = new Set(Array.from({ length: 100 }, generateTotpSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(base32Decode(secret)).toHaveLength(20);
    }
  });

  it("builds the otpauth URI authenticator apps scan", () => {
    expect(totpUri({ secret: RFC_SECRET, account: "ana@example.com", issuer: "Parley" })).toBe(
      `otpauth://totp/Parley:ana%40example.com?secret=${RFC_SECRET}&issuer=Parley&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it("percent-encodes the label and issuer (spaces as %20, colons escaped)", () => {
    const uri = totpUri({
      secret: RFC_SECRET.toLowerCase(),
      account: "ana:b@example.com",
      issuer: "Acme Support",
    });
    expect(uri).toMatch(/^otpauth:\/\/totp\/Acme%20Support:ana%3Ab%40example\.com\?/);
    const url = new URL(uri);
    expect(url.searchParams.get("secret")).toBe(RFC_SECRET);
    expect(url.searchParams.get("issuer")).toBe("Acme Support");
    expect(uri).not.toContain("+");
  });
});

describe("recovery codes", () => {
  const FORMAT = /^[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}$/;

  it("generates ten distinct codes of 80 bits as XXXX-XXXX-XXXX-XXXX", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
  });

  it("generates the number asked for, and never repeats across many sets", () => {
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    const all = Array.from({ length: 200 }, () => generateRecoveryCodes()).flat();
    expect(new Set(all).size).toBe(2_000);
  });

  it("uses every symbol of the alphabet (no bias towards a subset)", () => {
    const symbols = new Set(generateRecoveryCodes(100).join("").replace(/-/g, ""));
    expect(symbols.size).toBe(32);
  });

  it("refuses a nonsensical count", () => {
    for (const count of [0, -1, 1.5, 101]) {
      expect(() => generateRecoveryCodes(count)).toThrow(RangeError);
    }
  });

  it("normalises what people type: spaces, dashes, case and look-alike letters", () => {
    expect(normaliseRecoveryCode("0123-4567-89AB-CDEF")).toBe("0123456789ABCDEF");
    expect(normaliseRecoveryCode(" o123 4567\t89ab-cdef ")).toBe("0123456789ABCDEF");
    expect(normaliseRecoveryCode("OIL1-xyz")).toBe("0111XYZ");
  });

  it("hashes the normalised code with SHA-256", async () => {
    const expected = "2125b2c332b1113aae9bfc5e9f7e3b4c91d828cb942c2df1eeb02502eccae9e9";
    expect(await hashRecoveryCode("0123-4567-89AB-CDEF")).toBe(expected);
    expect(await hashRecoveryCode("o123 4567 89ab cdef")).toBe(expected);
    expect(await hashRecoveryCode("0123-4567-89AB-CDEE")).not.toBe(expected);
  });

  it("hashes each generated code to a distinct value", async () => {
    const codes = generateRecoveryCodes();
    const hashes = await Promise.all(codes.map(hashRecoveryCode));
    expect(new Set(hashes).size).toBe(codes.length);
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashRecoveryCode(codes[0]?.toLowerCase() ?? "")).toBe(hashes[0]);
  });
});
