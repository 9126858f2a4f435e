/**
 * Independent float64 references for the tests: direct loops over NHWC arrays, written from the definitions
 * (TensorFlow's "same" padding: out = ceil(in / stride), the padding split evenly with the extra row after;
 * PyTorch's groups), not from the package's im2col.
 */

import { TestRng } from "@neurite/test-support";

/** A dense NHWC (or any-rank) float64 array. */
export interface Nd {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Uniform draws in [0, 1) from the shared seeded test-input generator. */
export function seededDraws(seed: number): () => number {
  const rng = new TestRng(seed);
  return () => rng.next();
}

/** Values in [-1, 1) rounded to float32 so that both sides start from the same numbers. */
export function randomNd(shape: readonly number[], seed: number): Nd {
  const next = seededDraws(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.fround(next() * 2 - 1);
  return { shape, data };
}

export interface ConvSpec {
  readonly strides: readonly [number, number];
  readonly padding: "valid" | "same";
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/** Output size and padding before, per axis, as TensorFlow defines them. */
export function outSize(size: number, k: number, s: number, d: number, padding: "valid" | "same"): { out: number; before: number } {
  const span = (k - 1) * d + 1;
  if (padding === "valid") return { out: Math.floor((size - span) / s) + 1, before: 0 };
  const out = Math.ceil(size / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + span - size, 0) / 2) };
}

/** The direct 7-loop convolution: x [N, H, W, C], w [KH, KW, C / groups, F], b [F] or none. */
export function conv2dRef(x: Nd, w: Nd, b: Nd | undefined, spec: ConvSpec): Nd {
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [kh, kw, cg, f] = w.shape as [number, number, number, number];
  const fg = f / spec.groups;
  const r = outSize(h, kh, spec.strides[0], spec.dilation[0], spec.padding);
  const q = outSize(wd, kw, spec.strides[1], spec.dilation[1], spec.padding);
  const out = new Float64Array(n * r.out * q.out * f);
  for (let bi = 0; bi < n; bi++)
    for (let oy = 0; oy < r.out; oy++)
      for (let ox = 0; ox < q.out; ox++)
        for (let fo = 0; fo < f; fo++) {
          const g = Math.floor(fo / fg);
          let acc = b ? b.data[fo]! : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              for (let ci = 0; ci < cg; ci++) {
                const iy = oy * spec.strides[0] - r.before + ky * spec.dilation[0];
                const ix = ox * spec.strides[1] - q.before + kx * spec.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += x.data[((bi * h + iy) * wd + ix) * c + g * cg + ci]! * w.data[((ky * kw + kx) * cg + ci) * f + fo]!;
              }
          out[((bi * r.out + oy) * q.out + ox) * f + fo] = acc;
        }
  return { shape: [n, r.out, q.out, f], data: out };
}

/** Central finite differences of a float64 scalar function with respect to every entry of `at`. */
export function finiteDifferences(at: Nd, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(at.data.length);
  for (let i = 0; i < at.data.length; i++) {
    const v = at.data[i]!;
    at.data[i] = v + h;
    const up = f();
    at.data[i] = v - h;
    const down = f();
    at.data[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The largest |a − b| / (atol + rtol·|b|) over the entries; ≤ 1 passes. */
export function worstRatio(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i]! - b[i]!) / (atol + rtol * Math.abs(b[i]!));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
  }
  return worst;
}

/** Max or average pooling by direct loops; padding taps are skipped (never the max, not counted in the mean). */
export function poolRef(x: Nd, kind: "max" | "avg", pool: readonly [number, number], strides: readonly [number, number], padding: "valid" | "same"): Nd {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const r = outSize(h, pool[0], strides[0], 1, padding);
  const q = outSize(w, pool[1], strides[1], 1, padding);
  const out = new Float64Array(n * r.out * q.out * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < r.out; oy++)
      for (let ox = 0; ox < q.out; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === "max" ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < pool[0]; ky++)
            for (let kx = 0; kx < pool[1]; kx++) {
              const iy = oy * strides[0] - r.before + ky;
              const ix = ox * strides[1] - q.before + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x.data[((b * h + iy) * w + ix) * c + ch]!;
              acc = kind === "max" ? Math.max(acc, v) : acc + v;
              count++;
            }
          out[((b * r.out + oy) * q.out + ox) * c + ch] = kind === "max" ? acc : acc / count;
        }
  return { shape: [n, r.out, q.out, c], data: out };
}

/** Batch statistics per channel (last axis): the mean and the biased variance, two-pass. */
export function channelStats(x: Nd): { mean: Float64Array; variance: Float64Array; count: number } {
  const c = x.shape[x.shape.length - 1]!;
  const count = x.data.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.data.length; i++) mean[i % c]! += x.data[i]! / count;
  for (let i = 0; i < x.data.length; i++) variance[i % c]! += (x.data[i]! - mean[i % c]!) ** 2 / count;
  return { mean, variance, count };
}

/** (x − μ)/√(σ² + ε)·γ + β per channel (last axis). */
export function normalizeRef(x: Nd, mean: ArrayLike<number>, variance: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Nd {
  const c = x.shape[x.shape.length - 1]!;
  return { shape: x.shape, data: x.data.map((v, i) => ((v - mean[i % c]!) / Math.sqrt(variance[i % c]! + eps)) * gamma[i % c]! + beta[i % c]!) };
}
