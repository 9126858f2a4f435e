import type { StridedView } from "./contract.js";

/** A kernel layout with size-1 axes dropped and neighbouring axes merged wherever every operand allows it. */
export interface CollapsedLayout {
  readonly shape: number[];
  /** strides[k] for operand k, one per collapsed axis. */
  readonly strides: number[][];
}

/**
 * Merges axis d into d−1 when, for every operand, stride[d−1] = stride[d]·shape[d] (contiguous together, or
 * both broadcast). Fewer axes mean longer inner loops and, for plain contiguous data, one flat loop: a helper
 * for backends implementing `elementwise`.
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[]): CollapsedLayout {
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

/**
 * Throws a RangeError unless every element `view` reaches over `shape` lies inside a buffer of `size`
 * elements: backends check views before running generated code over raw memory.
 */
export function checkViewBounds(view: StridedView, size: number, shape: readonly number[], what: string): void {
  if (view.strides.length !== shape.length) {
    throw new RangeError(`${what} has ${view.strides.length} strides for a shape of rank ${shape.length}`);
  }
  let lo = view.offset;
  let hi = view.offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (shape[d]! - 1) * view.strides[d]!;
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= size || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new RangeError(`${what} reaches elements [${lo}, ${hi}] of a buffer of ${size}`);
  }
}
