import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.library";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

// the version is built in (not read at run time) so that two copies of the core can compare versions in a browser too
export default defineConfig({ ...libraryBuild, define: { __NEURITE_CORE_VERSION__: JSON.stringify(version) } });
