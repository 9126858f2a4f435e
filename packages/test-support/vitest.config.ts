import { defineConfig } from "vitest/config";

// the suite must pass on a loaded 2-core machine: vitest's 5 s default is too close there
export default defineConfig({ test: { testTimeout: 60_000, include: ["test/**/*.test.ts"] } });
