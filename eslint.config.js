// @ts-check
import js from "@eslint/js";
import { defineConfig, globalIgnores } from "eslint/config";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  // AssemblyScript sources are not TS-checkable; tsup writes (and deletes) tsup.config.bundled_*.mjs while a build
  // runs, which a lint running at the same time would otherwise try to read after it is gone
  globalIgnores(["**/dist/", "**/build/", "**/.turbo/", "**/assembly/", "**/out/", "**/tsup.config.bundled_*"]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // typed linting: each package's tsconfig.json includes src/, test/ and *.config.ts
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // no import cycles between files: dependencies run one way (issue 12). Type-only imports count too, so a
    // contract never names its implementations.
    files: ["**/*.ts", "**/*.mts", "**/*.js", "**/*.mjs"],
    plugins: { "import-x": importX },
    settings: {
      // dependencies are parsed to follow their imports: TypeScript files with the TypeScript parser
      "import-x/extensions": [".ts", ".mts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".mts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ noWarnOnMultipleProjects: true, project: [`${import.meta.dirname}/packages/*/tsconfig.json`, `${import.meta.dirname}/apps/*/tsconfig.json`] })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
