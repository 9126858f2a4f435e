/** float64 numerics shared by the checks: finite differences, kink detection, slices along an axis. */

/** The upstream-gradient pattern of the reference files: g[i] = G_PATTERN[i % 11]. */
export const G_PATTERN = [1, -0.5, 2, 0.25, -1.5, 0.75, -2, 1.25, 0.5, -1, 3] as const;

export function gPattern(n: number): number[] {
  return Array.from({ length: n }, (_, i) => G_PATTERN[i % G_PATTERN.length]!);
}

/** The step used around x: relative for large |x|, absolute near 0. */
export function stepAt(x: number, rel: number): number {
  return rel * Math.max(1, Math.abs(x));
}

/** Kink-detection step; finite differences use a quarter of it, so a kink they could straddle is detected. */
const KINK_STEP = 1e-6;

/**
 * Whether f's derivative jumps (or f itself jumps) within a small distance of x: the one-sided slopes on
 * either side differ by more than smooth curvature explains (|f''| up to about 100 passes as smooth).
 */
export function kinkNear(f: (x: number) => number, x: number): boolean {
  const h = stepAt(x, KINK_STEP);
  const f0 = f(x);
  const left = (f0 - f(x - h)) / h;
  const right = (f(x + h) - f0) / h;
  if (!Number.isFinite(left) || !Number.isFinite(right)) return true;
  return Math.abs(left - right) > 1e-4 * Math.max(1, Math.abs(left), Math.abs(right));
}

/** Central finite difference of f at x, with a step inside the kink-free neighbourhood {@link kinkNear} checks. */
export function centralDifference(f: (x: number) => number, x: number): number {
  const h = stepAt(x, KINK_STEP / 4);
  return (f(x + h) - f(x - h)) / (2 * h);
}

/** Elements of one slice along `axis` of a row-major `shape`: their flat indices, in order. */
export function axisSlices(shape: readonly number[], axis: number): number[][] {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const slices: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) slices.push(Array.from({ length: n }, (_, k) => o * n * inner + k * inner + i));
  }
  return slices;
}

/** A number for messages: NaN, ±Infinity and −0 spelled out, others with 8 significant digits. */
export { fmtNumber as fmt } from "../reference/compare.js";
