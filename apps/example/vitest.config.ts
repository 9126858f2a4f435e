import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the e2e and packed-install tests spawn whole processes (a tour, npm installs)
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
