import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // training tests run real (small) networks on the wasm backend: generous on a loaded 2-core machine
    testTimeout: 120_000,
  },
});
