/**
 * `npm run check:deps` (also run by .ci/run): fails on a lockfile that pulls a package from
 * elsewhere than the npm registry or pins one without a sha512 integrity hash, and on a high or critical
 * advisory in a runtime dependency (`npm audit --omit=dev`). When the advisory service cannot
 * be reached it says so and does not fail: CI must not depend on a third party being up.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { auditVerdict, lockfileProblems } from "./lib/dependency-check.ts";

const problems = lockfileProblems(JSON.parse(readFileSync("package-lock.json", "utf8")));
if (problems.length > 0) {
  console.error(`check-dependencies: the lockfile is not acceptable:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  "check-dependencies: lockfile: no package from elsewhere than the npm registry, every one sha512-pinned",
);

const audit = spawnSync("npm", ["audit", "--omit=dev", "--json"], {
  encoding: "utf8",
  timeout: 120_000,
});
const verdict = auditVerdict(audit.stdout ?? "");
if (verdict.kind === "vulnerable") {
  console.error(
    `check-dependencies: high or critical advisories in runtime dependencies:\n  ${verdict.advisories.join("\n  ")}`,
  );
  process.exit(1);
}
if (verdict.kind === "unreachable") {
  console.warn(
    `check-dependencies: npm audit could not reach the advisory service (${verdict.reason}); not failing the run`,
  );
} else {
  console.log(
    "check-dependencies: npm audit: no high or critical advisory in runtime dependencies",
  );
}
