import { describe, expect, it } from "vitest";
import { auditVerdict, lockfileProblems } from "../../scripts/lib/dependency-check.ts";

const pinned = { version: "1.0.0", integrity: "sha512-abc" };

describe("lockfileProblems", () => {
  it("accepts registry packages pinned by sha512, with or without a resolved URL", () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        "": { name: "parley" },
        "node_modules/a": pinned,
        "node_modules/b": { ...pinned, resolved: "https://registry.npmjs.org/b/-/b-1.0.0.tgz" },
        "node_modules/c": { link: true },
      },
    };
    expect(lockfileProblems(lock)).toEqual([]);
  });

  it("refuses packages from elsewhere, without integrity, and old lockfiles", () => {
    const lock = {
      lockfileVersion: 3,
      packages: {
        "node_modules/git": { ...pinned, resolved: "git+https://example.com/x.git#abc" },
        "node_modules/host": { ...pinned, resolved: "https://evil.example/x.tgz" },
        "node_modules/file": { ...pinned, resolved: "file:../x" },
        "node_modules/sha1": { version: "1.0.0", integrity: "sha1-abc" },
        "node_modules/none": { version: "1.0.0" },
      },
    };
    expect(lockfileProblems(lock)).toEqual([
      "node_modules/git: resolved from git+https://example.com/x.git#abc, not https://registry.npmjs.org/",
      "node_modules/host: resolved from https://evil.example/x.tgz, not https://registry.npmjs.org/",
      "node_modules/file: resolved from file:../x, not https://registry.npmjs.org/",
      "node_modules/sha1: no sha512 integrity hash",
      "node_modules/none: no sha512 integrity hash",
    ]);
    expect(lockfileProblems({ lockfileVersion: 2, packages: {} })).toHaveLength(1);
    expect(lockfileProblems(null)).toHaveLength(1);
    expect(lockfileProblems({ lockfileVersion: 3 })).toEqual(["package-lock.json has no packages"]);
  });
});

describe("auditVerdict", () => {
  it("fails on high and critical advisories only", () => {
    const report = {
      vulnerabilities: {
        hono: { severity: "high", via: [] },
        zod: { severity: "moderate", via: [] },
        jose: { severity: "critical", via: [] },
        ws: { severity: "low", via: [] },
      },
      metadata: {},
    };
    expect(auditVerdict(JSON.stringify(report))).toEqual({
      kind: "vulnerable",
      advisories: ["hono (high)", "jose (critical)"],
    });
    const mild = { vulnerabilities: { zod: { severity: "moderate" } } };
    expect(auditVerdict(JSON.stringify(mild))).toEqual({ kind: "clean" });
    expect(auditVerdict(JSON.stringify({ vulnerabilities: {} }))).toEqual({ kind: "clean" });
  });

  it("says the service was unreachable, without failing, when npm reports an error", () => {
    // What npm prints when the registry answers the bulk advisory endpoint with an error.
    const blocked = {
      message:
        "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
      statusCode: 405,
      error: { summary: "", detail: "" },
    };
    expect(auditVerdict(JSON.stringify(blocked))).toEqual({
      kind: "unreachable",
      reason: blocked.message,
    });
    const offline = { error: { code: "ENOTFOUND", summary: "request to … failed" } };
    expect(auditVerdict(JSON.stringify(offline))).toEqual({
      kind: "unreachable",
      reason: "request to … failed",
    });
    expect(auditVerdict("")).toEqual({
      kind: "unreachable",
      reason: "npm audit printed no JSON report",
    });
  });
});
