import { ArgumentError, PRIMITIVE_HELPERS, exprToJs } from "@neurite/core";
import type { ElementwiseKernel, KernelSpec } from "./kernel-spec.js";

/**
 * A JavaScript version of a run-time kernel: the same arguments (rows, cols, then byte address, row stride
 * and column stride of each output and input, then the scalars) over the same memory, evaluated in float64
 * and rounded once, as the cpu backend does. It stands in while a module too large to compile synchronously
 * compiles in the background: Chrome refuses synchronous compilation of modules over 4 KB on a page's main
 * thread, and the backend's calls are synchronous.
 */
export function jsKernel(spec: KernelSpec, memory: WebAssembly.Memory): ElementwiseKernel {
  // every name below is built from an index this function counts itself; exprToJs refuses look-alike expressions
  for (const n of [spec.outputs.length, spec.inputs.length, spec.scalars]) {
    if (!Number.isSafeInteger(n) || n < 0 || n > 4096) throw new ArgumentError(`wasm backend: a kernel of ${String(n)} operands cannot be built`);
  }
  const nOut = spec.outputs.length;
  const nIn = spec.inputs.length;
  const params = ["rows", "cols"];
  for (let o = 0; o < nOut; o++) params.push(`o${o}`, `o${o}r`, `o${o}c`);
  for (let k = 0; k < nIn; k++) params.push(`i${k}`, `i${k}r`, `i${k}c`);
  for (let j = 0; j < spec.scalars; j++) params.push(`s${j}`);
  const reads: string[] = [];
  for (let k = 0; k < nIn; k++) if (spec.inputs[k] !== "u") reads.push(`const x${k} = F[(i${k} + r * i${k}r + c * i${k}c) >>> 2];`);
  const body: string[] = [];
  spec.outputs.forEach((e, o) => {
    const { statements, result } = exprToJs(e, { input: (k) => `x${k}`, scalar: (j) => `S${j}`, output: () => "NaN" }, `t${o}_`);
    body.push(statements, `F[(o${o} + r * o${o}r + c * o${o}c) >>> 2] = ${result};`);
  });
  // scalars reach the wasm kernels demoted to float32: the same here
  const scalars = Array.from({ length: spec.scalars }, (_, j) => `const S${j} = Math.fround(s${j});`).join("\n");
  const source = `return function (${params.join(", ")}) {
const F = new Float32Array(memory.buffer);
${scalars}
for (let r = 0; r < rows; r++) {
  for (let c = 0; c < cols; c++) {
    ${reads.join("\n    ")}
    ${body.join("\n    ")}
  }
}
};`;
  // generated only from the expression's primitive table, never from user strings
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return (new Function("M", "memory", source) as (m: typeof PRIMITIVE_HELPERS, mem: WebAssembly.Memory) => ElementwiseKernel)(PRIMITIVE_HELPERS, memory);
}
