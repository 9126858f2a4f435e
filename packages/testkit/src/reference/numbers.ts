/** Reference-file numbers: finite values are JSON numbers; NaN, ±Infinity and −0 are strings. */
export type RefNumber = number | "NaN" | "Infinity" | "-Infinity" | "-0";

export function decodeNumber(v: unknown): number {
  if (typeof v === "number") return v;
  switch (v) {
    case "NaN": return NaN;
    case "Infinity": return Infinity;
    case "-Infinity": return -Infinity;
    case "-0": return -0;
    default: throw new Error(`not a reference number: ${JSON.stringify(v)}`);
  }
}

export function decodeArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${what} must be an array of numbers, got ${JSON.stringify(v)?.slice(0, 80)}`);
  return v.map(decodeNumber);
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/**
 * The reference README's comparison rule for one value: NaN must be NaN; ±Infinity must be equal; where
 * fround(e) overflows, a must equal that infinity; else |a − e| ≤ max(rtol·|e|, atol), zero's sign ignored.
 */
export function valueMatches(expected: number, actual: number, tol: Tolerance): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  const f = Math.fround(expected);
  if (!Number.isFinite(f)) return actual === f;
  return Math.abs(actual - expected) <= Math.max(tol.rtol * Math.abs(expected), tol.atol);
}

export interface Comparison {
  readonly ok: boolean;
  /** Largest |a − e| over finite pairs. */
  readonly maxAbsErr: number;
  /** Largest |a − e| / |e| over finite pairs where the relative tolerance governs (rtol·|e| > atol). */
  readonly maxRelErr: number;
  /** The first mismatch, for messages. */
  readonly firstBad?: { index: number; expected: number; actual: number };
}

/**
 * Compares arrays under {@link valueMatches}; `atolAt(i)` may scale atol per element, and `alternatives(i)`
 * lists other accepted values at an index.
 */
export function compareArrays(
  expected: readonly number[],
  actual: ArrayLike<number>,
  tol: Tolerance,
  options: { atolAt?: (i: number) => number; alternatives?: (i: number) => readonly number[] | undefined } = {},
): Comparison {
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let firstBad: Comparison["firstBad"];
  if (actual.length !== expected.length) return { ok: false, maxAbsErr: Infinity, maxRelErr: Infinity, firstBad: { index: -1, expected: expected.length, actual: actual.length } };
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const t = { rtol: tol.rtol, atol: options.atolAt ? options.atolAt(i) : tol.atol };
    if (Number.isFinite(e) && Number.isFinite(a)) {
      maxAbsErr = Math.max(maxAbsErr, Math.abs(a - e));
      if (t.rtol * Math.abs(e) > t.atol) maxRelErr = Math.max(maxRelErr, Math.abs(a - e) / Math.abs(e));
    }
    const ok = valueMatches(e, a, t) || (options.alternatives?.(i) ?? []).some((alt) => valueMatches(alt, a, t));
    if (!ok && !firstBad) firstBad = { index: i, expected: e, actual: a };
  }
  return { ok: !firstBad, maxAbsErr, maxRelErr, ...(firstBad ? { firstBad } : {}) };
}
