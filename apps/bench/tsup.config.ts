import { defineConfig } from "tsup";

export default defineConfig({
  // the CLI forks dist/worker.js once per library, so both are entries
  entry: ["src/cli.ts", "src/worker.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  // libraries are loaded from node_modules at run time, never bundled: each child loads only its own
  external: [/^@tensorflow\//, /^@neurite\//, "vite", "playwright-core"],
});
