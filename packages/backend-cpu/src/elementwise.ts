import { type ElementwiseArgs, checkViewBounds, collapseAxes } from "@neurite/core";
import { flatKernel, stridedKernel } from "./codegen.js";
import { dataOf } from "./memory.js";


/** One fused pass of the expression over the iteration shape. */
export function elementwise(args: ElementwiseArgs): void {
  prepareElementwise(args)();
}

const NOTHING = (): void => undefined;

/**
 * The pass of {@link elementwise} with its checks, layout and kernel lookup done once: what a compiled
 * step replays (see Backend.prepare). The arrays are bound now, so the buffers must stay allocated.
 */
export function prepareElementwise(args: ElementwiseArgs): () => void {
  const { program, inputs, shape } = args;
  let n = 1;
  for (const size of shape) n *= size;
  if (n === 0) return NOTHING;

  const X = inputs.map((v, k) => dataOf(v.id, `input ${k}`));
  const out = dataOf(args.out.id, "out");
  inputs.forEach((v, k) => checkViewBounds(v, X[k]!.length, shape, `cpu elementwise: input ${k}`));
  checkViewBounds(args.out, out.length, shape, "cpu elementwise: out");

  const c = collapseAxes(shape, [...inputs.map((v) => v.strides), args.out.strides]);
  const O = inputs.map((v) => v.offset);
  const outStrides = c.strides[inputs.length]!;
  const { scalars } = args;
  const outOffset = args.out.offset;
  if (c.shape.length === 1 && (n === 1 || outStrides[0] === 1)) {
    const pattern = inputs.map((_, k): 0 | 1 | -1 => (n === 1 ? 0 : c.strides[k]![0] === 1 ? 1 : c.strides[k]![0] === 0 ? 0 : -1));
    if (pattern.every((p) => p !== -1)) {
      const kernel = flatKernel(program, pattern);
      return () => kernel(X, O, scalars, out, outOffset, n);
    }
  }
  const kernel = stridedKernel(program, inputs.length);
  return () => kernel(X, O, c.strides, scalars, out, outOffset, outStrides, c.shape);
}
