import { ArgumentError, ShapeError, fmtShape } from "../errors.js";

/**
 * Most elements a tensor may have, 2^51 − 1: its byte count (4 per float32 value) and every offset into it
 * stay exact integers in a JavaScript number. Every backend's own limit is far lower (the wasm backend's
 * memory holds at most 2 GiB); a backend reports it with an `OutOfMemoryError` when it is asked to allocate.
 */
export const MAX_TENSOR_ELEMENTS = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/**
 * Number of elements of a shape (1 for a scalar's []). Throws a {@link ShapeError} for a shape no backend
 * can index: more than {@link MAX_TENSOR_ELEMENTS} elements, counting only the non-zero sizes (so that the
 * strides of an empty tensor stay exact too).
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  let nonZero = 1;
  for (const d of shape) {
    n *= d;
    if (d !== 0) nonZero *= d;
  }
  if (nonZero > MAX_TENSOR_ELEMENTS) {
    const what = n === 0 ? `the product of its non-zero sizes, ${nonZero},` : `its ${n} elements`;
    throw new ShapeError(
      `shape ${fmtShape(shape)} is too large: ${what} exceed${n === 0 ? "s" : ""} the ${MAX_TENSOR_ELEMENTS} (2^51 − 1) elements a tensor ` +
        "may have (byte counts must stay exact integers); use a smaller shape",
    );
  }
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Validates a user-given shape: non-negative integers. */
export function checkShape(shape: readonly number[], what = "shape"): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(`${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** NumPy broadcasting of several shapes; the error names the op and every shape. */
export function broadcastShapes(op: string, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = s[s.length - 1 - i]!;
      const j = rank - 1 - i;
      const cur = out[j]!;
      if (d === cur || d === 1) continue;
      if (cur === 1) out[j] = d;
      else {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together ` +
            `(axis ${j} of the result: ${cur} vs ${d}); sizes must match or be 1`,
        );
      }
    }
  }
  return out;
}

/** Strides to read a contiguous tensor of `shape` broadcast to `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, j) => {
    const i = j - offset;
    return i < 0 || shape[i] === 1 ? 0 : own[i]!;
  });
}

/** Normalizes an axis (negative counts from the end) with a clear error. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  // a rank-0 tensor has no axes: accepting 0 here made sum(scalar, 0) read a size-NaN axis and return 0
  if (rank === 0) throw new ArgumentError(`${op}: a rank-0 tensor (shape []) has no axis ${axis}; omit the axis or reshape it to [1] first`);
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ArgumentError(`${op}: axis must be an integer in [${-rank}, ${rank - 1}] for a rank-${rank} tensor, got ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes reduction axes: undefined means all; sorted, unique. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new ArgumentError(`${op}: axes must not repeat, got ${JSON.stringify(axes)}`);
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
