import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "functions/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // What a test prints (console, and the handlers' JSON log lines, which Powertools writes
    // through the global console in dev mode) is shown for failing tests only.
    silent: "passed-only",
    env: { POWERTOOLS_DEV: "true" },
  },
});
