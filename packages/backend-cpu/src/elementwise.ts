import type { ElementwiseArgs, StridedView } from "@neurite/core";
import { flatKernel, stridedKernel } from "./codegen.js";
import { dataOf } from "./memory.js";

/** A layout with size-1 axes dropped and neighbouring axes merged wherever every operand allows it. */
export interface Collapsed {
  shape: number[];
  /** strides[k] per operand (inputs first, out last), one per collapsed axis. */
  strides: number[][];
}

/**
 * Merges axis d into d-1 when, for every operand, stride[d-1] = stride[d]·shape[d] (contiguous together, or
 * both broadcast). Fewer axes mean longer inner loops and, for plain contiguous data, a single flat loop.
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue; // a size-1 axis never moves the pointers
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * size)) {
      dims[last]! *= size;
      for (let k = 0; k < strides.length; k++) st[k]![last] = strides[k]![d]!;
    } else {
      dims.push(size);
      for (let k = 0; k < strides.length; k++) st[k]!.push(strides[k]![d]!);
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: st };
}

/** Throws unless every element the view reaches over `shape` lies inside its buffer. */
function checkView(view: StridedView, data: Float32Array, shape: readonly number[], what: string): void {
  if (view.strides.length !== shape.length) {
    throw new RangeError(`cpu elementwise: ${what} has ${view.strides.length} strides for a shape of rank ${shape.length}`);
  }
  let lo = view.offset;
  let hi = view.offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (shape[d]! - 1) * view.strides[d]!;
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= data.length || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new RangeError(`cpu elementwise: ${what} reaches elements [${lo}, ${hi}] of a buffer of ${data.length}`);
  }
}

/** One fused pass of the expression over the iteration shape. */
export function elementwise(args: ElementwiseArgs): void {
  const { program, inputs, shape } = args;
  let n = 1;
  for (const size of shape) n *= size;
  if (n === 0) return;

  const X = inputs.map((v, k) => dataOf(v.id, `input ${k}`));
  const out = dataOf(args.out.id, "out");
  inputs.forEach((v, k) => checkView(v, X[k]!, shape, `input ${k}`));
  checkView(args.out, out, shape, "out");

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
