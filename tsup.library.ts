import type { Options } from "tsup";

/**
 * The build every library package shares: ESM + CJS + .d.ts with source maps, for Node 20 and bundlers.
 * A package's tsup.config.ts spreads it and adds what is its own.
 */
export const libraryBuild = {
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  // tsup 8.5.1 sets baseUrl for its dts build; TypeScript 6 errors on that (TS5101) unless told to ignore 6.0 deprecations
  dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
  sourcemap: true,
  clean: true,
  target: "node20",
} satisfies Options;
