// Kernels of @neurite/backend-wasm, compiled by AssemblyScript at build time (runtime: stub, no allocation).
// Every pointer is a byte address in linear memory chosen by the JavaScript allocator; every size and
// stride is in elements. Elementwise expressions are not here: they are compiled at run time (src/codegen.ts).

export { matmulFused, matmulPackB, matmulRows, matmulScratchBytes } from "./matmul";
export { sumRows, sumInner, extremeRows, extremeInner, argRows, argInner } from "./reduce";
export { softmaxRows, logSoftmaxRows, softmaxBackwardRows, logSoftmaxBackwardRows } from "./rows";
export { adam, gather, scatterAdd, fill } from "./misc";
export { im2col, col2im, im2colMatmulRows } from "./patches";

/** First byte past the module's static data: where the JavaScript allocator starts. */
export function heapBase(): usize {
  return __heap_base;
}
