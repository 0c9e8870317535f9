import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "functions/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // What a test prints (console calls here, direct stream writes in the setup file) is shown
    // for failing tests only.
    silent: "passed-only",
    setupFiles: ["test/setup/quiet-output.ts"],
  },
});
