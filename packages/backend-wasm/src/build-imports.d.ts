// Modules that the build (tsup.config.ts) makes out of files, not sources.

// the AssemblyScript build, inlined as base64 (loader: { ".wasm": "base64" })
declare module "*.wasm" {
  const base64: string;
  export default base64;
}

// a module bundled on its own into one classic script, as source text (the worker-source plugin)
declare module "*?worker-source" {
  const source: string;
  export default source;
}
