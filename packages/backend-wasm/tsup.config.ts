import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Options, defineConfig } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

const WORKER_SOURCE = /\?worker-source$/;
const threadsDir = resolve(dirname(fileURLToPath(import.meta.url)), "src/threads");

/**
 * `import source from "./worker.js?worker-source"` gives worker.ts bundled on its own into one classic script,
 * as a string. The thread pool starts its workers from it (eval in Node's worker_threads, a Blob URL in
 * browsers), so the worker is a real, type-checked and linted module and still ships inside each bundle: no
 * extra file to locate at run time, from Node, a browser, Vite or the packed tarball.
 */
const workerSource: EsbuildPlugin = {
  name: "worker-source",
  setup(build) {
    build.onResolve({ filter: WORKER_SOURCE }, (args) => ({
      path: resolve(args.resolveDir, args.path.replace(WORKER_SOURCE, "").replace(/\.js$/, ".ts")),
      namespace: "worker-source",
    }));
    build.onLoad({ filter: /.*/, namespace: "worker-source" }, async (args) => {
      const result = await build.esbuild.build({
        entryPoints: [args.path],
        bundle: true,
        write: false,
        metafile: true,
        format: "iife",
        platform: "neutral",
        target: "es2022",
        logLevel: "silent",
      });
      const inputs = Object.keys(result.metafile.inputs).map((file) => resolve(file));
      // the worker runs alone in its thread: it must not pull the backend (or @neurite/core) in with it
      const foreign = inputs.filter((file) => relative(threadsDir, file).startsWith(".."));
      if (foreign.length > 0) throw new Error(`the worker bundle may import only src/threads/, but it imports ${foreign.join(", ")}`);
      return { contents: `export default ${JSON.stringify(result.outputFiles[0]!.text)};`, loader: "js", watchFiles: inputs };
    });
  },
};

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
  esbuildPlugins: [workerSource],
});
