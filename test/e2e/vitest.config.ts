import { defineProject } from "vitest/config";

/** End-to-end tests: `wrangler dev`, real WebSocket clients, headless Chromium, the admin CLI. */
export default defineProject({
  test: {
    name: "e2e",
    environment: "node",
    include: ["**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two files at a time, whatever the core count: each file starts its own `wrangler dev`
    // (or runs CLI processes) and waits on it much of the time, so one file alone leaves a
    // 2-core machine half idle; more than two would starve workerd and Chromium.
    maxWorkers: 2,
    // After the unit and worker projects (vitest needs its own group for a different
    // maxWorkers); the wrangler dev servers then do not compete with workerd tests.
    sequence: { groupOrder: 1 },
  },
});
