import { createRequire } from "node:module";
import { type Backend, type DataId, backendInstance, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { TestRng } from "@neurite/test-support";
import { type WasmBackend, wasmBackend } from "../dist/index.js";

use(cpuBackend, wasmBackend);

/** The built CommonJS bundle, loaded the way require() users load it. */
export const cjs = createRequire(import.meta.url)("../dist/index.cjs") as typeof import("../dist/index.js");

export async function backends(): Promise<{ cpu: Backend; wasm: WasmBackend }> {
  const cpu = await backendInstance("cpu");
  const wasm = (await backendInstance("wasm")) as WasmBackend;
  return { cpu, wasm };
}

/** `n` float32 values in [lo, hi) from the shared seeded test-input generator, so failures reproduce. */
export function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return new TestRng(seed).float32Array(n, lo, hi);
}

/** The reference comparison rule of fixtures/reference/README.md (a copy of the PyTorch reference values). */
export function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  if (!Number.isFinite(Math.fround(e))) return a === Math.fround(e);
  return Math.abs(a - e) <= Math.max(rtol * Math.abs(e), atol);
}

/** Indices where actual and expected disagree under {@link close}, described for a failure message. */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number | ((i: number) => number), label: (i: number) => string = (i) => `[${i}]`): string[] {
  const bad: string[] = [];
  if (actual.length !== expected.length) return [`length ${actual.length} ≠ ${expected.length}`];
  for (let i = 0; i < expected.length; i++) {
    const tol = typeof atol === "number" ? atol : atol(i);
    if (!close(actual[i]!, expected[i]!, rtol, tol)) bad.push(`${label(i)}: got ${actual[i]}, want ${expected[i]}`);
    if (bad.length >= 8) break;
  }
  return bad;
}

/** Uploads to a backend, runs fn, reads the result, frees everything. */
export function on(b: Backend, inputs: readonly Float32Array[], outSize: number, fn: (ids: DataId[], out: DataId) => void): Float32Array {
  const ids = inputs.map((x) => b.upload(x));
  const out = b.alloc(outSize);
  try {
    fn(ids, out);
    return b.read(out);
  } finally {
    for (const id of ids) b.free(id);
    b.free(out);
  }
}
