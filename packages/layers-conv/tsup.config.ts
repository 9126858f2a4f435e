import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";
import { libraryBuild } from "../../tsup.library";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as { version: string };

// the version is built in from package.json, so a changeset's bump reaches the identity saved models record
export default defineConfig({ ...libraryBuild, define: { __NEURITE_LAYERS_CONV_VERSION__: JSON.stringify(version) } });
