import { defineConfig } from "vitest/config";

/** Every test layer; `npm test` runs them all, `--project <name>` runs one. */
export default defineConfig({
  test: {
    projects: [
      "test/unit/vitest.config.ts",
      "test/worker/vitest.config.ts",
      "test/e2e/vitest.config.ts",
    ],
  },
});
