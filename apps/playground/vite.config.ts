import { defineConfig } from "vite";

/** Cross-origin isolation: without these headers there is no SharedArrayBuffer, so the backend runs on 1 thread. */
export const isolationHeaders = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
} as const;

export default defineConfig({
  // relative asset URLs: the built app works from any folder of any static host
  base: "./",
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: "es" },
  build: {
    target: "es2022",
    // the kernels are inlined into the backend's bundle; any other .wasm stays a real file, never a data: URL
    assetsInlineLimit: (file) => (file.endsWith(".wasm") ? false : undefined),
  },
});
