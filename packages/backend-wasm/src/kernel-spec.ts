// What a run-time elementwise kernel is specialised on and how it is called. Shared by the WebAssembly
// emitter (codegen.ts), its JavaScript stand-in (js-kernel.ts) and the runners, so that none of them
// imports another for its types.
import type { Expr } from "@neurite/core";

/**
 * How an operand moves along the inner (last) axis of a kernel: `c` contiguous (f32x4 loads), `b` one
 * value per row (broadcast, loaded once per row), `s` any other stride (gathered and scattered a lane at a
 * time around the same SIMD arithmetic), `u` unused.
 */
export type Pattern = "c" | "b" | "s" | "u";

/**
 * A compiled elementwise kernel over a [rows, cols] iteration space. Arguments, in order: rows, cols; then
 * for each output its byte address, row stride and column stride (bytes); the same for each input; then
 * the scalars (float64). Each row runs a SIMD loop over four columns at a time and a lane-by-lane loop
 * for the rest.
 */
export type ElementwiseKernel = (...args: number[]) => void;

export interface CompiledKernel {
  readonly key: string;
  readonly fn: ElementwiseKernel;
}

/** Everything a kernel is specialised on. */
export interface KernelSpec {
  /** One expression per output (over input(i) and scalar(j)). */
  readonly outputs: readonly Expr[];
  readonly inputs: readonly Pattern[];
  readonly outPatterns: readonly Pattern[];
  readonly scalars: number;
}

export function kernelKey(spec: KernelSpec, shared: boolean): string {
  return `${spec.outputs.map((e) => e.key).join(";")}|${spec.inputs.join("")}>${spec.outPatterns.join("")}|${spec.scalars}|${shared ? "s" : "p"}`;
}
