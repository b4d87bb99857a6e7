import { defineProject } from "vitest/config";

/** Unit tests of pure modules, in Node. */
export default defineProject({
  test: {
    name: "unit",
    environment: "node",
    include: ["**/*.test.ts"],
  },
});
