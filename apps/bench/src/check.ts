/**
 * Correctness before speed: every library's outputs on the seeded check inputs are compared with Neurite
 * CPU's, element by element, as |a − b| ≤ atol + rtol·|b|.
 */
import { MATMUL_CASES } from "./config.js";
import type { Suite } from "./protocol.js";
import { convCheckKeys } from "./conv-suite.js";
import { smallCheckKeys } from "./small-suite.js";

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
  /** Share of elements allowed outside the tolerance (Adam's first steps amplify tiny gradient differences). */
  readonly allowFraction?: number;
}

export interface Comparison {
  readonly ok: boolean;
  readonly mismatches: number;
  readonly maxAbs: number;
  /** The worst |a − b| / (atol + rtol·|b|): ≤ 1 is within tolerance. */
  readonly worst: number;
  readonly reason?: string;
}

/** Compares `actual` with `expected` element by element. NaN matches only NaN. */
export function compare(actual: Float32Array, expected: Float32Array, tol: Tolerance): Comparison {
  if (actual.length !== expected.length) {
    return { ok: false, mismatches: Math.max(actual.length, expected.length), maxAbs: Infinity, worst: Infinity, reason: `length ${actual.length} ≠ ${expected.length}` };
  }
  let mismatches = 0;
  let maxAbs = 0;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const [a, b] = [actual[i]!, expected[i]!];
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) {
        mismatches++;
        worst = Infinity;
      }
      continue;
    }
    const d = a === b ? 0 : Math.abs(a - b); // also equal infinities
    const ratio = d / (tol.atol + tol.rtol * Math.abs(b));
    maxAbs = Math.max(maxAbs, d);
    worst = Math.max(worst, ratio);
    if (ratio > 1) mismatches++;
  }
  const ok = mismatches <= Math.floor((tol.allowFraction ?? 0) * actual.length);
  return { ok, mismatches, maxAbs, worst };
}

/** The tolerance of each check key. */
export function toleranceFor(key: string): Tolerance {
  if (key.startsWith("matmul:")) return { rtol: 1e-4, atol: 1e-4 }; // sums of 70 products: absolute error near zero results
  if (key.startsWith("conv:")) return key === "conv:train-weights" ? { rtol: 1e-4, atol: 1e-5, allowFraction: 1e-3 } : { rtol: 1e-4, atol: 1e-4 }; // sums of up to 144 products
  if (key === "train:weights") return { rtol: 1e-4, atol: 1e-5, allowFraction: 1e-3 };
  if (key.startsWith("small:")) return { rtol: 1e-4, atol: 1e-5 }; // plain SGD: float32 rounding, not amplified as by Adam
  return { rtol: 1e-4, atol: 1e-6 };
}

/** The check keys that decide the ✓ of a report row. */
export function checkKeys(suite: Suite, caseName: string): string[] {
  switch (suite) {
    case "activation-forward":
    case "activation-backward":
      return [`${suite}:${caseName}`];
    case "matmul": {
      const c = MATMUL_CASES.find((m) => m.name === caseName);
      return c ? [`matmul:${c.transposeA ? "t" : "n"}${c.transposeB ? "t" : "n"}`] : [];
    }
    case "train":
      return caseName.startsWith("mlp") ? ["train:loss", "train:weights"] : [];
    case "predict":
      return ["predict"];
    case "conv":
      return convCheckKeys(caseName);
    case "small":
      return smallCheckKeys(caseName);
    default:
      return [];
  }
}
