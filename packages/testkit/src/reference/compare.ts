import { type Tolerance, valueMatches } from "./numbers.js";

/** One value that did not match. */
export interface Mismatch {
  readonly index: number;
  readonly expected: number;
  readonly actual: number;
}

/** The outcome of comparing arrays value by value under the reference rule. */
export interface DetailedComparison {
  /** How many values are off. */
  readonly count: number;
  /** The first few that are off (index −1: the lengths differ). */
  readonly bad: readonly Mismatch[];
  /** Largest |a − e| over finite pairs. */
  readonly maxAbsErr: number;
  /**
   * Largest |a − e| / |e| over finite pairs where the relative tolerance governs (rtol·|e| > atol): an absolute
   * error of 1e28 is small next to e = 1e38, and values below atol (subnormals, underflow) are absolute-only.
   */
  readonly maxRelErr: number;
}

/**
 * {@link valueMatches} over arrays, keeping what a message needs: how many values are off and the first
 * three of them. `atolAt(i)` may scale atol per element; `alternatives(i)` lists other accepted values.
 */
export function compareDetailed(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  tol: Tolerance,
  options: { atolAt?: (i: number) => number; alternatives?: (i: number) => readonly number[] | undefined } = {},
): DetailedComparison {
  if (expected.length !== actual.length) {
    return { count: 1, bad: [{ index: -1, expected: expected.length, actual: actual.length }], maxAbsErr: Infinity, maxRelErr: Infinity };
  }
  const bad: Mismatch[] = [];
  let count = 0;
  let maxAbsErr = 0;
  let maxRelErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const t = { rtol: tol.rtol, atol: options.atolAt ? options.atolAt(i) : tol.atol };
    if (Number.isFinite(e) && Number.isFinite(a)) {
      maxAbsErr = Math.max(maxAbsErr, Math.abs(a - e));
      if (t.rtol * Math.abs(e) > t.atol) maxRelErr = Math.max(maxRelErr, Math.abs(a - e) / Math.abs(e));
    }
    if (valueMatches(e, a, t) || (options.alternatives?.(i) ?? []).some((alt) => valueMatches(alt, a, t))) continue;
    count++;
    if (bad.length < 3) bad.push({ index: i, expected: e, actual: a });
  }
  return { count, bad, maxAbsErr, maxRelErr };
}

/** A number for messages: NaN, ±Infinity and −0 spelled out, others with 8 significant digits. */
export function fmtNumber(v: number): string {
  if (Object.is(v, -0)) return "-0";
  if (!Number.isFinite(v)) return String(v);
  return Number(v.toPrecision(8)).toString();
}

/** "3 of 41 values off; at [4] x=-8 expected 1, got 2; …", or undefined when everything matched. */
export function describeMismatches(what: string, c: DetailedComparison, total: number, xs?: readonly number[]): string | undefined {
  if (c.count === 0) return undefined;
  if (c.bad[0]?.index === -1) return `${what}: expected ${c.bad[0].expected} values, got ${c.bad[0].actual}`;
  const at = (i: number): string => (xs && xs[i] !== undefined ? `[${i}] x=${fmtNumber(xs[i])}` : `[${i}]`);
  return `${what}: ${c.count} of ${total} values off; ${c.bad.map((b) => `at ${at(b.index)} expected ${fmtNumber(b.expected)}, got ${fmtNumber(b.actual)}`).join("; ")}`;
}
