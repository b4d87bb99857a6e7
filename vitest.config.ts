import { defineConfig } from "vitest/config";

/** Every test layer; `npm test` runs them all, `--project <name>` runs one. */
export default defineConfig({
  test: {
    projects: [
      "test/unit/vitest.config.ts",
      "test/worker/vitest.config.ts",
      "test/e2e/vitest.config.ts",
    ],
    // The Worker logs one JSON line per request (worker/middleware/request-log.ts): thousands
    // in a run, and tests that need them read them through a console recorder instead.
    onConsoleLog: (log) => !log.startsWith('{"level":"info","msg":"request"'),
  },
});
