import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  // tsup 8.5.1 sets baseUrl for its dts build; TypeScript 6 errors on that (TS5101) unless told to ignore 6.0 deprecations
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // the AssemblyScript build is inlined as base64, and also copied next to the bundles for URL loading
  loader: { ".wasm": "base64" },
  publicDir: "build",
});
