/** Closeness checks whose failures list the offending elements (index, actual, expected). */
import type { Tensor } from "@neurite/core";
import { expect } from "vitest";

export interface Tolerance {
  /** Relative tolerance (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  readonly atol?: number;
  /**
   * Per-element absolute tolerances, in place of `atol`: for results that are sums of many terms, whose rounding
   * error scales with the terms' magnitudes rather than with the (possibly cancelled) result.
   */
  readonly atolAt?: ArrayLike<number>;
}

/**
 * The elements where |actual − expected| > atol + rtol·|expected|. NaN matches only NaN and an infinity
 * only the same infinity, so NaN-propagation and overflow are checked exactly.
 */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}): string[] {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  const out: string[] = [];
  if (actual.length !== expected.length) return [`length ${actual.length} vs expected ${expected.length}`];
  if (tol.atolAt && tol.atolAt.length !== expected.length) return [`${tol.atolAt.length} tolerances for ${expected.length} values`];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= (tol.atolAt?.[i] ?? atol) + rtol * Math.abs(e);
    if (!ok && out.length < 8) out.push(`[${i}] got ${a}, expected ${e}`);
  }
  return out;
}

/** Asserts elementwise closeness; the failure message names `what` and the first mismatches. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, what = "values"): void {
  expect(mismatches(actual, expected, tol), what).toEqual([]);
}

/** Asserts a tensor's shape and values. */
export function expectTensor(t: Tensor, shape: readonly number[], expected: ArrayLike<number>, tol: Tolerance = {}, what = "tensor"): void {
  expect([...t.shape], `${what} shape`).toEqual([...shape]);
  expectClose(t.dataSync(), expected, tol, what);
}

export function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]!));
  return m;
}
