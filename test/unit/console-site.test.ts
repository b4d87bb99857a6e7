/**
 * `CONSOLE_API_ORIGIN` for a console built for another origin (scripts/lib/console-site.ts):
 * only a bare https origin (or http on loopback) is taken, since it goes into the page and the
 * CSP; everything else stops the build with a message naming the variable.
 */
import { describe, expect, it } from "vitest";
import { parseConsoleApiOrigin } from "../../scripts/lib/console-site.ts";

describe("parseConsoleApiOrigin", () => {
  it("takes a bare https origin, http on loopback, and nothing for unset or blank", () => {
    expect(parseConsoleApiOrigin("https://chat.example.com")).toBe("https://chat.example.com");
    expect(parseConsoleApiOrigin(" https://chat.example.com:8443 ")).toBe(
      "https://chat.example.com:8443",
    );
    expect(parseConsoleApiOrigin("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787");
    expect(parseConsoleApiOrigin(undefined)).toBeUndefined();
    expect(parseConsoleApiOrigin("  ")).toBeUndefined();
  });

  it.each([
    "chat.example.com",
    "http://chat.example.com",
    "https://chat.example.com/",
    "https://chat.example.com/api",
    "https://chat.example.com?x=1",
    "https://user:pass@chat.example.com",
    'https://chat.example.com" onload="x',
    "javascript:alert(1)",
    "wss://chat.example.com",
  ])("refuses %s", (value) => {
    expect(() => parseConsoleApiOrigin(value)).toThrow(/CONSOLE_API_ORIGIN must be an origin/);
  });
});
