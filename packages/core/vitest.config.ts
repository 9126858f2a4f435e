import { defineConfig } from "vitest/config";

// the suite must pass on a loaded 2-core machine, where vitest's 5 s default is too close to the slowest tests (~2 s idle)
export default defineConfig({ test: { testTimeout: 60_000, include: ["src/**/*.test.ts", "test/**/*.test.ts"], passWithNoTests: false } });
