import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The reference files' encoding: NaN, ±Infinity and −0 as strings. */
export function enc(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

export const G = [1, -0.5, 2, 0.25, -1.5, 0.75, -2, 1.25, 0.5, -1, 3];
export const gAt = (i: number): number => G[i % G.length]!;

type Case = Record<string, unknown>;

/** An elementwise case computed in float64 from f and f' (independent of the code under test). */
export function elementwiseCase(id: string, op: string, xs: number[], f: (x: number) => number, df: (x: number) => number, params: Record<string, unknown> = {}): Case {
  const g = xs.map((_, i) => gAt(i));
  return {
    id, op, kind: "elementwise", params, shape: [xs.length], x: xs.map(enc), g: g.map(enc),
    y64: xs.map((x) => enc(f(x))), grad64: xs.map((x, i) => enc(g[i]! * df(x))), dydx64: xs.map((x) => enc(df(x))),
  };
}

export const relu = (x: number): number => (x < 0 ? 0 : x);
export const drelu = (x: number): number => (x <= 0 ? 0 : 1); // torch: x <= 0 → 0, NaN passes g

// Float64 references written here, not imported from core (the code under test); checked against published
// values in references.test.ts.

/** The logistic function, never exp of a large positive number (so no overflow to Infinity / Infinity). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
/** s(x)·(1 − s(x)), written as s(x)·s(−x) so that 1 − s does not cancel for large x. */
export const dsigmoid = (x: number): number => sigmoid(x) * sigmoid(-x);

/**
 * The error function by its everywhere-convergent series of positive terms,
 * erf x = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): no cancellation, so accurate to a few float64 ulps;
 * another algorithm than core's (fdlibm's rational approximations).
 */
export function erf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // odd: ±0 keep their sign
  const ax = Math.abs(x);
  let r = 1; // erfc(6) < 2.2e-17: erf is 1 in float64 from there on
  if (ax < 6) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 1000 && term >= 1e-17 * sum; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
    }
    r = Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum);
  }
  return x < 0 ? -r : r;
}

/** Writes JSON files into a fresh temporary directory; returns their paths. */
export function writeFiles(files: Record<string, unknown>): { dir: string; paths: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "neurite-conformance-"));
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], typeof content === "string" ? content : JSON.stringify(content));
  }
  return { dir, paths };
}
