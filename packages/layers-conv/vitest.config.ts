import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

// the suite must pass on a loaded 2-core machine, where vitest's 5 s default is too close to the slowest tests
export default defineConfig({
  define: { __NEURITE_LAYERS_CONV_VERSION__: JSON.stringify(version) },
  test: { testTimeout: 120_000, include: ["test/**/*.test.ts"], passWithNoTests: false },
});
