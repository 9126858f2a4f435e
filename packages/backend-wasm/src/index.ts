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
import { ArgumentError, type BackendPlugin } from "@neurite/core";
import { WasmBackend } from "./backend.js";
// the package identity saved models record: from package.json at build time (the bundler keeps just these two strings)
import { name as PACKAGE, version as VERSION } from "../package.json";
import { type KernelVariant, MAX_PAGES, type WasmSource, compileKernels, hasRelaxedSimd } from "./loader.js";
import { threadsUnavailableReason } from "./threads/pool.js";

export { WasmBackend, type WasmBackendInit } from "./backend.js";
export { WasmBuffer } from "./memory.js";
export { type KernelVariant, hasRelaxedSimd } from "./loader.js";
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
  /**
   * Fused multiply-adds in matmul (WebAssembly relaxed SIMD, `f32x4.relaxed_madd`): "auto" (default) uses
   * them where the engine has relaxed SIMD, `false` never does (results bit-identical on every engine),
   * `true` requires them. A fused multiply-add rounds once instead of twice, so products differ from the
   * plain kernel in the last bits. `capabilities().matmul` says which kernel runs. It chooses among the
   * inlined modules; with {@link WasmOptions.wasm} the module given is loaded as is (`kernels.wasm` or
   * `kernels-fma.wasm`), and an explicit `fma` must match it.
   */
  readonly fma?: boolean | "auto";
}

function chooseVariant(fma: boolean | "auto"): KernelVariant {
  if (fma !== true && fma !== false && fma !== "auto") {
    throw new ArgumentError(`wasm backend: fma must be true, false or "auto", got ${JSON.stringify(fma) ?? String(fma)}; leave it out for "auto"`);
  }
  if (fma === false) return "simd128";
  if (hasRelaxedSimd()) return "relaxed-simd-fma";
  if (fma === true) {
    throw new ArgumentError("wasm backend: fma: true needs WebAssembly relaxed SIMD, which this engine does not run (Chrome ≥ 114 has it; Node 20 needs --experimental-wasm-relaxed-simd); use fma: \"auto\" to fall back to the SIMD128 kernel");
  }
  return "simd128";
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
  const fma = options.fma ?? "auto";
  const variant = chooseVariant(fma);
  const shared = threads > 1;
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared });
  const kernels = await compileKernels(options.wasm, shared, variant);
  return WasmBackend.create({
    kernels, memory, threads, ...(fma === "auto" ? {} : { fmaRequired: fma }), threadsRequested: req === "auto" ? hardwareThreads() : req, ...(reason ? { threadsReason: reason } : {}),
  });
}

/** The wasm backend as a plugin: register it with `use(wasmBackend)`, then `await setBackend("wasm", options)`. */
export const wasmBackend: BackendPlugin<WasmOptions> = {
  kind: "backend",
  name: "wasm",
  package: PACKAGE,
  version: VERSION,
  create: (options) => createWasmBackend(options),
};
