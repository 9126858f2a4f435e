/**
 * Seeded inputs that every library receives bit for bit: generated here, in plain JS, rather than with any
 * library's own random ops, so the correctness checks compare like with like. The generator is core's `Random`
 * used as plain JS: no tensor op is involved.
 */
import { Random } from "@neurite/core";

/** Uniform draws in [0, 1) from core's seeded generator (plain integer arithmetic, the same on every engine). */
export function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** `n` float32 values uniform in [lo, hi). */
export function uniformArray(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

/** Glorot-uniform weights and zero biases of an MLP with the given layer widths: [W1, b1, W2, b2, …], W of shape [in, out]. */
export function mlpWeights(widths: readonly number[], seed: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    out.push(uniformArray(fanIn * fanOut, -limit, limit, seed + 101 * l), new Float32Array(fanOut));
  }
  return out;
}

/** A synthetic classification set: inputs uniform in [0, 1), labels one-hot from a fixed random linear teacher (so it is learnable). */
export function syntheticDataset(samples: number, features: number, classes: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = uniformArray(samples * features, 0, 1, seed);
  const teacher = uniformArray(features * classes, -1, 1, seed + 1);
  const y = new Float32Array(samples * classes);
  const scores = new Float64Array(classes);
  for (let s = 0; s < samples; s++) {
    scores.fill(0);
    for (let f = 0; f < features; f++) {
      const v = x[s * features + f]!;
      for (let c = 0; c < classes; c++) scores[c]! += v * teacher[f * classes + c]!;
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[c]! > scores[best]!) best = c;
    y[s * classes + best] = 1;
  }
  return { x, y };
}

/** The arrays one after another in one Float32Array (batched outputs joined for a value check). */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
