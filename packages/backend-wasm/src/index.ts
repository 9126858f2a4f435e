/**
 * `@neurite/backend-wasm`: the WebAssembly SIMD backend of Neurite, for Node and browsers, with no native
 * dependency.
 *
 * ```ts
 * import { setBackend, use } from "@neurite/core";
 * import { wasmBackend } from "@neurite/backend-wasm";
 * use(wasmBackend);
 * await setBackend("wasm", { threads: 2 });
 * ```
 * @packageDocumentation
 */
import type { BackendPlugin } from "@neurite/core";
import { WasmBackend } from "./backend.js";
import { MAX_PAGES, type WasmSource, compileKernels } from "./loader.js";
import { threadsUnavailableReason } from "./threads/pool.js";

export { WasmBackend, type WasmBackendInit } from "./backend.js";
export { WasmBuffer } from "./memory.js";
export type { WasmSource } from "./loader.js";

/** Options of the wasm backend, passed as `setBackend("wasm", options)`. */
export interface WasmOptions {
  /**
   * Threads to run kernels on (the calling thread included): a number ≥ 1, or "auto" for the hardware
   * concurrency. Default 1. Where threads are unavailable (no SharedArrayBuffer, a page that is not
   * cross-origin isolated) the backend runs on one thread and warns why.
   */
  readonly threads?: number | "auto";
  /**
   * Where to load the kernels from: the inlined bytes by default, or a URL (fetched, streamed where the
   * server sends application/wasm; `file:` URLs are read in Node), or the module's bytes.
   */
  readonly wasm?: WasmSource;
}

function hardwareThreads(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?: (id: string) => unknown } };
  const os = g.process?.getBuiltinModule?.("node:os") as { availableParallelism?: () => number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? g.navigator?.hardwareConcurrency ?? 1);
}

/** Creates a wasm backend directly (setBackend does this through the plugin). */
export async function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  const req = options.threads ?? 1;
  if (req !== "auto" && (!Number.isInteger(req) || req < 1)) {
    throw new RangeError(`wasm backend: threads must be a positive integer or "auto", got ${String(req)}; use threads: 1 for no workers`);
  }
  let threads = req === "auto" ? hardwareThreads() : req;
  let reason: string | undefined;
  if (threads > 1) {
    reason = threadsUnavailableReason();
    if (reason) {
      console.warn(`@neurite/backend-wasm: running on 1 thread instead of ${threads}: ${reason}`);
      threads = 1;
    }
  }
  const shared = threads > 1;
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared });
  const kernels = await compileKernels(options.wasm, shared);
  return WasmBackend.create({
    kernels, memory, threads, threadsRequested: req === "auto" ? hardwareThreads() : req, ...(reason ? { threadsReason: reason } : {}),
  });
}

/** The wasm backend as a plugin: register it with `use(wasmBackend)`, then `await setBackend("wasm", options)`. */
export const wasmBackend: BackendPlugin<WasmOptions> = {
  kind: "backend",
  name: "wasm",
  package: "@neurite/backend-wasm",
  version: "0.1.0",
  create: (options) => createWasmBackend(options),
};
