import { defineConfig } from "tsup";

// tsup 8.5.1 sets baseUrl for its dts build; TypeScript 6 errors on that (TS5101) unless told to ignore 6.0 deprecations
const dts = { compilerOptions: { ignoreDeprecations: "6.0" } };

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts,
    sourcemap: true,
    clean: true,
    target: "node20",
    // the CJS build needs import.meta.url (to find a sibling @neurite/backend-wasm); tsup shims it
    shims: true,
  },
  {
    // the CLI: ESM only, with its shebang kept; not cleaned so that it never wipes the library build
    entry: { cli: "src/cli.ts" },
    format: ["esm"],
    sourcemap: true,
    clean: false,
    target: "node20",
  },
]);
