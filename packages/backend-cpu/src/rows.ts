import type { RowsArgs, RowsBackwardArgs } from "@neurite/core";
import { dataOf } from "./memory.js";
import type { Scratch64 } from "./reduce.js";

function checkRows(kernel: string, what: string, data: Float32Array, rows: number, cols: number): void {
  if (data.length < rows * cols) throw new RangeError(`cpu ${kernel}: ${what} holds ${data.length} values, fewer than ${rows}×${cols}`);
}

/**
 * Row maximum, or NaN when the row cannot be normalised: it holds NaN or +∞ (∞ − ∞), or every entry is −∞
 * (0/0), the cases where torch's softmax gives a row of NaN.
 */
function rowMax(x: Float32Array, base: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) {
    const v = x[base + j]!;
    if (v > max) max = v;
    else if (v !== v) return NaN;
  }
  return max === Infinity || max === -Infinity ? NaN : max;
}

/** Stable softmax: exp(x − max) / Σ, the exponentials kept in float64 scratch so each is computed once. */
export function softmax(args: RowsArgs, scratch: Scratch64): void {
  const { rows, cols } = args;
  const x = dataOf(args.x, "x");
  const out = dataOf(args.out, "out");
  checkRows("softmax", "x", x, rows, cols);
  checkRows("softmax", "out", out, rows, cols);
  const e = scratch.get(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const max = rowMax(x, base, cols);
    if (max !== max) {
      out.fill(NaN, base, base + cols);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += e[j] = Math.exp(x[base + j]! - max);
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[base + j] = e[j]! * inv;
  }
}

/**
 * Stable log-softmax: (x − max) − log Σ exp(x − max); −∞ entries stay −∞. The difference x − max is formed
 * first: max + log Σ rounds away log Σ once |max| is large ([1e30, 1e30] gave [0, 0]).
 */
export function logSoftmax(args: RowsArgs): void {
  const { rows, cols } = args;
  const x = dataOf(args.x, "x");
  const out = dataOf(args.out, "out");
  checkRows("logSoftmax", "x", x, rows, cols);
  checkRows("logSoftmax", "out", out, rows, cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const max = rowMax(x, base, cols);
    if (max !== max) {
      out.fill(NaN, base, base + cols);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[base + j]! - max);
    const logSum = Math.log(sum);
    for (let j = 0; j < cols; j++) out[base + j] = (x[base + j]! - max) - logSum;
  }
}

function checkBackward(kernel: string, args: RowsBackwardArgs): [Float32Array, Float32Array, Float32Array] {
  const y = dataOf(args.y, "y");
  const g = dataOf(args.g, "g");
  const out = dataOf(args.out, "out");
  checkRows(kernel, "y", y, args.rows, args.cols);
  checkRows(kernel, "g", g, args.rows, args.cols);
  checkRows(kernel, "out", out, args.rows, args.cols);
  return [y, g, out];
}

/** out = y ⊙ (g − Σ g⊙y) per row. */
export function softmaxBackward(args: RowsBackwardArgs): void {
  const { rows, cols } = args;
  const [y, g, out] = checkBackward("softmaxBackward", args);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += g[base + j]! * y[base + j]!;
    for (let j = 0; j < cols; j++) out[base + j] = y[base + j]! * (g[base + j]! - dot);
  }
}

/** out = g − exp(y) Σ g per row (y is the log-softmax output). */
export function logSoftmaxBackward(args: RowsBackwardArgs): void {
  const { rows, cols } = args;
  const [y, g, out] = checkBackward("logSoftmaxBackward", args);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += g[base + j]!;
    for (let j = 0; j < cols; j++) out[base + j] = g[base + j]! - Math.exp(y[base + j]!) * sum;
  }
}
