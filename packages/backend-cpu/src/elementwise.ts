import { type ElementwiseArgs, checkViewBounds, collapseAxes } from "@neurite/core";
import { flatKernel, stridedKernel } from "./codegen.js";
import { dataOf } from "./memory.js";


/** One fused pass of the expression over the iteration shape. */
export function elementwise(args: ElementwiseArgs): void {
  const { program, inputs, shape } = args;
  let n = 1;
  for (const size of shape) n *= size;
  if (n === 0) return;

  const X = inputs.map((v, k) => dataOf(v.id, `input ${k}`));
  const out = dataOf(args.out.id, "out");
  inputs.forEach((v, k) => checkViewBounds(v, X[k]!.length, shape, `cpu elementwise: input ${k}`));
  checkViewBounds(args.out, out.length, shape, "cpu elementwise: out");

  const c = collapseAxes(shape, [...inputs.map((v) => v.strides), args.out.strides]);
  const O = inputs.map((v) => v.offset);
  const outStrides = c.strides[inputs.length]!;
  if (c.shape.length === 1 && (n === 1 || outStrides[0] === 1)) {
    const pattern = inputs.map((_, k): 0 | 1 | -1 => (n === 1 ? 0 : c.strides[k]![0] === 1 ? 1 : c.strides[k]![0] === 0 ? 0 : -1));
    if (pattern.every((p) => p !== -1)) {
      flatKernel(program, pattern)(X, O, args.scalars, out, args.out.offset, n);
      return;
    }
  }
  stridedKernel(program, inputs.length)(X, O, c.strides, args.scalars, out, args.out.offset, outStrides, c.shape);
}
