import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.library";

export default defineConfig([
  libraryBuild,
  {
    // the CLI: ESM only, with its shebang kept; not cleaned so that it never wipes the library build
    entry: { cli: "src/cli.ts" },
    format: ["esm"],
    sourcemap: true,
    clean: false,
    target: "node20",
  },
]);
