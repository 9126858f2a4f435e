import { defineConfig } from "vitest/config";

// gradient and training tests do real work; give them room on a 2-core machine
export default defineConfig({ test: { include: ["test/**/*.test.ts"], testTimeout: 60_000 } });
