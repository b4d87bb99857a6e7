/**
 * Dependency hygiene for CI (.ci/run): the lockfile pins every package to the public registry
 * with an integrity hash, and `npm audit` finds no high or critical advisory in a runtime
 * dependency. Pure functions over the lockfile and the audit report, so they can be tested
 * without the network; scripts/check-dependencies.ts runs them.
 */

/** The only registry packages may come from (when the lockfile names one). */
export const REGISTRY = "https://registry.npmjs.org/";

interface LockedPackage {
  resolved?: string;
  integrity?: string;
  link?: boolean;
}

/** What is wrong with a package-lock.json (empty: nothing). */
export function lockfileProblems(lock: unknown): string[] {
  const { lockfileVersion, packages } = (lock ?? {}) as {
    lockfileVersion?: unknown;
    packages?: Record<string, LockedPackage>;
  };
  if (typeof lockfileVersion !== "number" || lockfileVersion < 3) {
    return ["package-lock.json must be lockfileVersion 3 (npm 9 or later)"];
  }
  if (!packages || typeof packages !== "object") return ["package-lock.json has no packages"];
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(packages)) {
    // The root project and workspace links are not downloaded.
    if (path === "" || entry.link) continue;
    // No `resolved`: npm fetches it from the configured registry by name and version. A
    // `resolved` elsewhere (a git URL, a tarball on another host, a local file) is refused.
    if (entry.resolved !== undefined && !entry.resolved.startsWith(REGISTRY)) {
      problems.push(`${path}: resolved from ${entry.resolved}, not ${REGISTRY}`);
    } else if (!entry.integrity?.startsWith("sha512-")) {
      problems.push(`${path}: no sha512 integrity hash`);
    }
  }
  return problems;
}

/** The verdict on `npm audit --json` output. */
export type AuditVerdict =
  | { kind: "clean" }
  | { kind: "vulnerable"; advisories: string[] }
  | { kind: "unreachable"; reason: string };

/**
 * Reads `npm audit --omit=dev --json` output: high or critical advisories make the run fail;
 * an advisory service that cannot be reached (npm prints an `error` object) does not.
 */
export function auditVerdict(output: string): AuditVerdict {
  let report: {
    error?: { summary?: string };
    message?: string;
    vulnerabilities?: Record<string, { severity?: string; via?: unknown[] }>;
  };
  try {
    report = JSON.parse(output);
  } catch {
    return { kind: "unreachable", reason: "npm audit printed no JSON report" };
  }
  if (report.error || !report.vulnerabilities) {
    const reason = report.message ?? report.error?.summary ?? "no report";
    return { kind: "unreachable", reason: reason || "no report" };
  }
  const advisories = Object.entries(report.vulnerabilities)
    .filter(([, v]) => v.severity === "high" || v.severity === "critical")
    .map(([name, v]) => `${name} (${v.severity})`)
    .sort();
  return advisories.length > 0 ? { kind: "vulnerable", advisories } : { kind: "clean" };
}
