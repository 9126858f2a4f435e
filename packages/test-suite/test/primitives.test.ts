/**
 * The expression primitives added for formulas from papers (sin … trunc, hypot, clamp), on every backend: dense
 * sweeps over the whole float32 range measured in float32 ulps against float64 (and, for sin/cos/tan, against an
 * exact BigInt reduction modulo π/2, so that neither V8's nor the backend's reduction is its own reference), the
 * special values, the edges of pow/min/max, and gradients against float64 finite differences.
 */
import {
  type Tensor, asinh, atan, atanh, cos, cosh, elementwise, exp2, expr, hypot, input, log2, maximum, minimum, pow, reciprocal,
  round, rsqrt, sin, sinh, sum, tan, tensor, trunc, valueAndGradOf,
} from "@neurite/core";
import { expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";
import { gradCheck } from "../src/gradcheck.js";
import { nd } from "../src/reference.js";
import { hardestTrigInputs, trigExact, ulpError, worstUlp } from "../src/ulp.js";

const FLT_MAX = 3.4028234663852886e38;

/** n values log-spaced over [lo, hi] (both > 0), rounded to float32, with both signs when `signed`. */
function logSweep(n: number, lo: number, hi: number, signed: boolean): Float32Array {
  const out = new Float32Array(signed ? 2 * n : n);
  const [a, b] = [Math.log(lo), Math.log(hi)];
  for (let i = 0; i < n; i++) {
    const v = Math.exp(a + ((b - a) * i) / (n - 1));
    out[i] = v;
    if (signed) out[n + i] = -v;
  }
  return out;
}

function linSweep(n: number, lo: number, hi: number): Float32Array {
  return new Float32Array(n).map((_, i) => lo + ((hi - lo) * i) / (n - 1));
}

function concat(...parts: ArrayLike<number>[]): Float32Array {
  return Float32Array.from(parts.flatMap((p) => Array.from(p)));
}

function apply(f: (t: Tensor) => Tensor, xs: Float32Array): Float32Array {
  const t = tensor(xs);
  const y = f(t);
  const out = y.dataSync();
  t.dispose();
  y.dispose();
  return out;
}

// the explicit far-from-0 arguments, the largest float32s, and each binade's float32 nearest to a multiple of π/2
const FAR = [1e4, 1e5, 1e6, 1e7, 1e10, 1e20, 1e30, 3e38, FLT_MAX, 2 ** 20, 2 ** 20 - 0.0625, 2 ** 24, 2 ** 127];
const HARD = hardestTrigInputs().map((h) => h.x);
const TRIG_SWEEP = concat(logSweep(60_000, 1e-45, FLT_MAX, true), FAR, FAR.map((v) => -v), HARD, HARD.map((v) => -v), linSweep(20_001, -10, 10));

type Unary = [name: string, f: (t: Tensor) => Tensor, ref: (x: number) => number, inputs: Float32Array, maxUlp: number];

// float64 references: Math.* (fdlibm in V8, < 1 float64 ulp) and plain definitions; bounds in float32 ulps
const UNARY: Unary[] = [
  ["atan", atan, Math.atan, concat(logSweep(50_000, 1e-45, FLT_MAX, true), [Infinity, -Infinity]), 1],
  ["sinh", sinh, Math.sinh, concat(linSweep(100_001, -90, 90), logSweep(20_000, 1e-45, 1, true), [89.41, 89.42, 1e4, -1e4]), 1],
  ["cosh", cosh, Math.cosh, concat(linSweep(100_001, -90, 90), logSweep(20_000, 1e-45, 1, true), [89.41, 89.42, 1e4, -1e4]), 1],
  ["asinh", asinh, Math.asinh, logSweep(60_000, 1e-45, FLT_MAX, true), 1],
  ["atanh", atanh, Math.atanh, concat(linSweep(100_001, -1, 1), logSweep(20_000, 1e-45, 0.5, true), new Float32Array(2000).map((_, i) => 1 - (i + 1) * 2 ** -24)), 1],
  ["reciprocal", reciprocal, (x) => 1 / x, logSweep(60_000, 1e-45, FLT_MAX, true), 0.5],
  ["rsqrt", rsqrt, (x) => 1 / Math.sqrt(x), logSweep(100_000, 1e-45, FLT_MAX, false), 1],
  // 2^x from the exponent bits at integers and e^(x ln 2) elsewhere: not Math.pow, which the cpu kernel uses
  ["exp2", exp2, (x) => (Number.isInteger(x) ? 2 ** x : Math.exp(x * Math.LN2)), concat(linSweep(100_001, -155, 130), new Float32Array(300).map((_, i) => i - 160)), 1],
  ["log2", log2, (x) => Math.log(x) / Math.LN2, concat(logSweep(100_000, 1e-45, FLT_MAX, false), linSweep(20_001, 0.5, 2)), 1],
];

forEachBackend("primitives: dense sweeps in float32 ulps", (backend) => {
  for (const fn of ["sin", "cos", "tan"] as const) {
    const op = { sin, cos, tan }[fn];
    test(`${fn} within 1 ulp of the exact value over ${TRIG_SWEEP.length} points up to 3.4e38 (exact BigInt reduction)`, () => {
      const got = apply(op, TRIG_SWEEP);
      const viaMath = worstUlp(TRIG_SWEEP, got, (i) => Math[fn](TRIG_SWEEP[i]!));
      expect(viaMath.ulps, `${backend} ${fn}: worst ${viaMath.ulps} ulp at ${viaMath.at} (float64 Math.${fn})`).toBeLessThanOrEqual(1);
      // every far and hardest argument, and every 50th sweep point, against the exact reduction
      const picked = TRIG_SWEEP.filter((x, i) => i % 50 === 0 || Math.abs(x) >= 1e4);
      const gotPicked = apply(op, picked);
      const exact = worstUlp(picked, gotPicked, (i) => trigExact(fn, picked[i]!));
      expect(exact.ulps, `${backend} ${fn}: worst ${exact.ulps} ulp at ${exact.at} (BigInt reference)`).toBeLessThanOrEqual(1);
    });
  }

  test.each(UNARY)("%s within its ulp bound over a dense sweep", (name, f, ref, inputs, maxUlp) => {
    const got = apply(f, inputs);
    const w = worstUlp(inputs, got, (i) => ref(inputs[i]!));
    expect(w.ulps, `${backend} ${name}: worst ${w.ulps} ulp at ${w.at}`).toBeLessThanOrEqual(maxUlp);
  });

  test("hypot: within 1 ulp over magnitudes from 1e-45 to 3.4e38, no overflow or underflow of the squares", () => {
    const mags = logSweep(300, 1e-45, FLT_MAX, true);
    const a = new Float32Array(mags.length ** 2);
    const b = new Float32Array(mags.length ** 2);
    mags.forEach((u, i) => mags.forEach((v, j) => ((a[i * mags.length + j] = u), (b[i * mags.length + j] = v))));
    const got = elementwise((x, y) => x.hypot(y), [tensor(a), tensor(b)]).dataSync();
    // scaled by the larger magnitude (exact power-of-two scaling keeps every square in range): not Math.hypot
    const ref = (i: number): number => {
      const s = 2 ** Math.ceil(Math.log2(Math.max(Math.abs(a[i]!), Math.abs(b[i]!))));
      const [p, q] = [a[i]! / s, b[i]! / s];
      return s * Math.sqrt(p * p + q * q);
    };
    const w = worstUlp(a, got, ref);
    expect(w.ulps, `${backend} hypot: worst ${w.ulps} ulp at a = ${w.at}`).toBeLessThanOrEqual(1);
    expect(Array.from(hypot(tensor([3e38, 1e-30, 0, Infinity, -Infinity, NaN, 3e38]), tensor([1e38, 1e-30, 0, NaN, 2, 1, 3e38])).dataSync()))
      .toEqual([Math.fround(Math.hypot(3e38, 1e38)), Math.fround(Math.SQRT2 * 1e-30), 0, Infinity, Infinity, NaN, Infinity]);
  });
});

forEachBackend("primitives: special values", (backend) => {
  const cases: [string, (t: Tensor) => Tensor, number[], number[]][] = [
    ["sin", sin, [Infinity, -Infinity, NaN, 0, -0, 1e-45, -1e-40], [NaN, NaN, NaN, 0, -0, 2 ** -149, Math.fround(-1e-40)]],
    ["cos", cos, [Infinity, -Infinity, NaN, 0, -0], [NaN, NaN, NaN, 1, 1]],
    ["tan", tan, [Infinity, NaN, 0, -0], [NaN, NaN, 0, -0]],
    ["atan", atan, [Infinity, -Infinity, NaN, 0, -0], [Math.fround(Math.PI / 2), -Math.fround(Math.PI / 2), NaN, 0, -0]],
    ["sinh", sinh, [Infinity, -Infinity, NaN, 0, -0, 89.5, -89.5, 1e-45], [Infinity, -Infinity, NaN, 0, -0, Infinity, -Infinity, 2 ** -149]],
    ["cosh", cosh, [Infinity, -Infinity, NaN, 0, -0, 89.5], [Infinity, Infinity, NaN, 1, 1, Infinity]],
    ["asinh", asinh, [Infinity, -Infinity, NaN, 0, -0, 3e38, -FLT_MAX], [Infinity, -Infinity, NaN, 0, -0, Math.fround(Math.asinh(3e38)), Math.fround(Math.asinh(-FLT_MAX))]],
    ["atanh", atanh, [1, -1, 1.0000001, -2, Infinity, NaN, 0, -0], [Infinity, -Infinity, NaN, NaN, NaN, NaN, 0, -0]],
    ["reciprocal", reciprocal, [0, -0, Infinity, -Infinity, NaN, 1e-45], [Infinity, -Infinity, 0, -0, NaN, Infinity]],
    ["rsqrt", rsqrt, [0, -0, Infinity, -1, NaN, 4], [Infinity, -Infinity, 0, NaN, NaN, 0.5]],
    ["exp2", exp2, [128, -149, -150, 127, -126, Infinity, -Infinity, NaN, 0], [Infinity, 2 ** -149, 0, 2 ** 127, 2 ** -126, Infinity, 0, NaN, 1]],
    ["log2", log2, [0, -0, -1, Infinity, NaN, 1, 2 ** -149, 2 ** 127], [-Infinity, -Infinity, NaN, Infinity, NaN, 0, -149, 127]],
    // ties to even, as torch.round(0.5) = 0, torch.round(2.5) = 2
    ["round", round, [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 8388609, -0.2, Infinity, NaN], [0, 2, 2, -0, -2, -2, 0, 8388609, -0, Infinity, NaN]],
    ["trunc", trunc, [2.7, -2.7, -0.5, 8388609, Infinity, NaN], [2, -2, -0, 8388609, Infinity, NaN]],
  ];
  test.each(cases)("%s at its special values (±0 signs included)", (name, f, xs, want) => {
    const got = Array.from(apply(f, new Float32Array(xs)));
    got.forEach((g, i) => expect(ulpError(g, want[i]!), `${backend} ${name}(${xs[i]}) = ${g}, want ${want[i]}`).toBe(0));
  });

  test("tan near π/2: the float32 nearest π/2 gives −1/(its distance to π/2), to 1 ulp", () => {
    const x = Math.fround(Math.PI / 2);
    const [got] = apply(tan, new Float32Array([x, -x]));
    expect(ulpError(got!, trigExact("tan", x))).toBeLessThanOrEqual(1);
    expect(got).toBeLessThan(-2e7);
  });

  test("pow at its edges: negative bases, 0⁰, 0 to a negative power", () => {
    const a = [-2, -2, -2, -8, 0, 0, -0, -0, 0, 2, NaN, -Infinity, -Infinity];
    const b = [3, 2, 0.5, 1 / 3, 0, -1, -1, -2, 0.5, NaN, 0, 3, 0.5];
    // C/PyTorch: (−2)³ = −8, non-integer powers of a negative base NaN, 0⁰ = 1, 0⁻¹ = ∞, (−0)⁻¹ = −∞, x⁰ = 1 even for NaN
    const want = [-8, 4, NaN, NaN, 1, Infinity, -Infinity, Infinity, 0, NaN, 1, -Infinity, Infinity];
    const got = Array.from(pow(tensor(a), tensor(b)).dataSync());
    got.forEach((g, i) => expect(ulpError(g, want[i]!), `${backend} pow(${a[i]}, ${b[i]}) = ${g}`).toBe(0));
  });

  test("min/max at ties and with NaN: NaN propagates; the gradient splits at a tie and goes whole to both with NaN", () => {
    const a = tensor([1, 2, NaN, 3, -0]);
    const b = tensor([1, NaN, 2, 1, 0]);
    for (const [name, f] of [["maximum", maximum], ["minimum", minimum]] as const) {
      const y = Array.from(f(a, b).dataSync());
      expect(y.slice(0, 4).map((v) => (Number.isNaN(v) ? "NaN" : v)), `${backend} ${name}`).toEqual([1, "NaN", "NaN", name === "maximum" ? 3 : 1]);
      const { grads } = valueAndGradOf(() => sum(f(a, b)), [a, b]);
      // torch.maximum/minimum's backward: ½ each at a tie, the whole gradient to both operands where either is NaN
      expect(Array.from(grads[0]!.dataSync()).slice(0, 4), `${backend} d${name}/da`).toEqual([0.5, 1, 1, name === "maximum" ? 1 : 0]);
      expect(Array.from(grads[1]!.dataSync()).slice(0, 4), `${backend} d${name}/db`).toEqual([0.5, 1, 1, name === "maximum" ? 0 : 1]);
    }
  });

  test("clamp: min(max(x, lo), hi), NaN propagates, half the gradient at a bound", () => {
    const x = tensor([-2, -1, 0.3, 1, 5, NaN]);
    const { value, grads } = valueAndGradOf(() => sum(elementwise((v) => expr.clamp(v, -1, 1).mul(v.add(3).sin().add(2)), [x])), [x]);
    expect(Number.isNaN(value.item())).toBe(true);
    const y = Array.from(elementwise((v) => v.clamp(-1, 1), [x]).dataSync());
    expect(y.map((v) => (Number.isNaN(v) ? "NaN" : v))).toEqual([-1, -1, Math.fround(0.3), 1, 1, "NaN"]);
    const g = grads[0]!.dataSync();
    // d/dx [clamp(x)·(sin(x + 3) + 2)] = clamp'(x)·(sin(x + 3) + 2) + clamp(x)·cos(x + 3), clamp' ∈ {0, ½, 1}
    const want = [-2, -1, 0.3, 1, 5].map((v, i) => [0, 0.5, 1, 0.5, 0][i]! * (Math.sin(v + 3) + 2) + Math.max(-1, Math.min(1, v)) * Math.cos(v + 3));
    want.forEach((w, i) => expect(Math.abs(g[i]! - w), `${backend} clamp gradient at ${[-2, -1, 0.3, 1, 5][i]}`).toBeLessThan(4e-6));
  });
});

forEachBackend("primitives: gradients against float64 finite differences", () => {
  const cases: [string, (t: Tensor) => Tensor, (x: number) => number, number, number][] = [
    ["sin", sin, Math.sin, -20, 20],
    ["cos", cos, Math.cos, -20, 20],
    ["tan", tan, Math.tan, -1.4, 1.4],
    ["atan", atan, Math.atan, -30, 30],
    ["sinh", sinh, Math.sinh, -10, 10],
    ["cosh", cosh, Math.cosh, -10, 10],
    ["asinh", asinh, Math.asinh, -1e3, 1e3],
    ["atanh", atanh, Math.atanh, -0.95, 0.95],
    ["reciprocal", reciprocal, (v) => 1 / v, 0.1, 10],
    ["rsqrt", rsqrt, (v) => 1 / Math.sqrt(v), 0.05, 50],
    ["exp2", exp2, (v) => 2 ** v, -20, 20],
    ["log2", log2, Math.log2, 0.01, 1e3],
  ];
  test.each(cases)("%s", (name, f, ref, lo, hi) => {
    const xs = nd([40], (i) => Math.fround(lo + ((hi - lo) * (i + 0.37)) / 40));
    gradCheck({ name, inputs: [xs], f, ref: (x) => nd(x.shape, (i) => ref(x.data[i]!)) });
  });

  test("hypot, with respect to both operands, and 0 at (0, 0)", () => {
    const a = nd([30], (i) => Math.fround(Math.sin(i) * 10 ** ((i % 7) - 3)));
    const b = nd([30], (i) => Math.fround(Math.cos(3 * i) * 10 ** ((i % 5) - 2)));
    gradCheck({ name: "hypot", inputs: [a, b], f: hypot, ref: (x, y) => nd(x.shape, (i) => Math.hypot(x.data[i]!, y.data[i]!)) });
    const z = tensor([0, 3e38]);
    const w = tensor([0, 3e38]);
    const { grads } = valueAndGradOf(() => sum(hypot(z, w)), [z, w]);
    expect(Array.from(grads[0]!.dataSync())).toEqual([0, Math.fround(Math.SQRT1_2)]);
  });

  test("sin of a far argument differentiates through the same reduction (cos at 1e6 and 3e38)", () => {
    const x = tensor([1e6, 3e38, -1e20]);
    const { grads } = valueAndGradOf(() => sum(sin(x)), [x]);
    const g = grads[0]!.dataSync();
    [1e6, 3e38, -1e20].forEach((v, i) => expect(ulpError(g[i]!, trigExact("cos", Math.fround(v)))).toBeLessThanOrEqual(1));
  });

  test("an expression of several new primitives (snake: x + sin²(a·x)/a) matches float64 finite differences", () => {
    const xs = nd([50], (i) => Math.fround(-6 + 0.25 * i));
    const a = 1.7;
    gradCheck({
      name: "snake",
      inputs: [xs],
      f: (t) => elementwise((v) => v.add(v.mul(a).sin().square().div(a)), [t]),
      ref: (x) => nd(x.shape, (i) => x.data[i]! + Math.sin(a * x.data[i]!) ** 2 / a),
    });
    expect(input(0).sin().key).toBe("sin(i0)");
  });
});
