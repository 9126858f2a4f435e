/**
 * Hostile numerics, on every backend. (1) Losses and log-softmax are exact for any finite logits: the
 * log-sum-exp is never rounded to float32 before a logit is subtracted from it, so rows like [z, z] give ln 2
 * at z = 1e5, 2e7, 1e30, 3.4e38, and mixed magnitudes ([1e30, 0, −1e30], [3e38, −3e38]) match float64 —
 * values and gradients — with no NaN. (2) cpu and wasm agree at the edges: every activation of the four
 * families over special values (±0, subnormals, ±88.7, ±100, ±1e30, ±3.4e38, ±∞, NaN) keeps the sign of
 * zero and NaN-ness identical on both, and matches an independent float64 formula rounded to float32.
 *
 * Every expected value is computed here in float64 from the formulas, never by the code under test.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import {
  type ActivationPlugin, type Tensor, abs, applyActivation, binaryCrossEntropyFromLogits, bindActivation,
  categoricalCrossEntropyFromLogits, erf, exp, expm1, floor, grad, log, log1p, logSumExp, mul, neg, scope, setBackend, sigmoid, sign,
  sparseCategoricalCrossEntropyFromLogits, sqrt, sum, tanh, tensor, use, valueAndGrad,
} from "@neurite/core";
import { describe, expect, it } from "vitest";
import { BACKENDS, forEachBackend, registerBackends } from "../../src/backends.js";
import { erfRef } from "@neurite/test-support";

registerBackends();
use(sigmoidFamily, reluFamily, softmaxFamily, smoothFamily);

const f32 = Math.fround;
const fmt = (row: readonly number[]) => `[${row.join(", ")}]`;
const FLT_MAX = 3.4028234663852886e38;

/**
 * expected e (float64) against actual a (float32): NaN must be NaN; a value whose float32 rounding overflows
 * must be that infinity; otherwise |a − e| ≤ rtol·|e| + atol.
 */
function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  const r = f32(e);
  if (!Number.isFinite(r)) return a === r;
  return Math.abs(a - e) <= rtol * Math.abs(e) + atol;
}

function expectAllClose(what: string, actual: ArrayLike<number>, expected: readonly number[], rtol: number, atol: number): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i]!, expected[i]!, rtol, atol)) expect.fail(`${what}, index ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

// ---- float64 references, written out from the definitions ----

/** log Σ exp(z − m) and z − m of one row, m = max z (finite rows only). */
function shiftedRow(z: readonly number[]): { shifted: number[]; logSum: number } {
  const m = Math.max(...z);
  const shifted = z.map((v) => v - m);
  return { shifted, logSum: Math.log(shifted.reduce((s, v) => s + Math.exp(v), 0)) };
}

function logSoftmax64(z: readonly number[]): number[] {
  const { shifted, logSum } = shiftedRow(z);
  return shifted.map((v) => v - logSum);
}

function softmax64(z: readonly number[]): number[] {
  const { shifted, logSum } = shiftedRow(z);
  return shifted.map((v) => Math.exp(v - logSum));
}

/** Cross-entropy of soft targets t against logits z: mean over rows of Σ t·(−log softmax z), and d/dz. */
function crossEntropy64(rows: readonly (readonly number[])[], targets: readonly (readonly number[])[]): { value: number; grad: number[] } {
  const n = rows.length;
  let value = 0;
  const grad: number[] = [];
  rows.forEach((z, r) => {
    const t = targets[r]!;
    const ls = logSoftmax64(z);
    const p = softmax64(z);
    const tSum = t.reduce((a, b) => a + b, 0);
    t.forEach((tj, j) => { if (tj !== 0) value -= tj * ls[j]!; });
    p.forEach((pj, j) => grad.push((pj * tSum - t[j]!) / n));
  });
  return { value: value / n, grad };
}

/** Binary cross-entropy from one logit, both branches written so that nothing cancels. */
function bce64(z: number, t: number): number {
  return z >= 0 ? z * (1 - t) + Math.log1p(Math.exp(-z)) : -z * t + Math.log1p(Math.exp(z));
}

function sigmoid64(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function lossAndGrad(loss: (t: Tensor, z: Tensor) => Tensor, targets: number[], targetShape: number[], logits: number[], shape: number[]): { value: number; grad: Float32Array } {
  return scope(() => {
    const t = tensor(targets, targetShape);
    const { value, grads } = valueAndGrad((z: Tensor) => loss(t, z))(tensor(logits, shape));
    return { value: value.item(), grad: Float32Array.from(grads[0]!.dataSync()) };
  });
}

const HUGE = [1e5, 2e7, 1e30, 3.4e38].flatMap((z) => [f32(z), -f32(z)]);

/** Rows of mixed magnitudes (every entry a float32). */
const MIXED_ROWS: number[][] = [
  [1e30, 0, -1e30],
  [3e38, -3e38, 0],
  [-3.4e38, 3.4e38, 3.4e38],
  [2e7, 2e7 + 2, -2e7],
  [1e5, 1e5 + 0.0078125, 1e5 - 1],
  [-1e30, -1e30, -1e30 * 1.0000001],
  [0.5, -1.25, 3],
].map((r) => r.map(f32));

forEachBackend("hostile numerics: losses from logits are exact for any finite logits", () => {
  it("cross-entropy of [[z, z]] against [1, 0] is ln 2 with gradient [−0.5, 0.5] at z = ±1e5, ±2e7, ±1e30, ±3.4e38", () => {
    for (const z of HUGE) {
      const { value, grad } = lossAndGrad(categoricalCrossEntropyFromLogits, [1, 0], [1, 2], [z, z], [1, 2]);
      expect(close(value, Math.LN2, 1e-6, 0), `z = ${z}: loss ${value}`).toBe(true);
      expectAllClose(`z = ${z}: gradient`, grad, [-0.5, 0.5], 0, 1e-6);
    }
  });

  it("sparse cross-entropy from logits: [[z, z]] with label 0 is ln 2 at every magnitude", () => {
    for (const z of HUGE) {
      const { value, grad } = lossAndGrad(sparseCategoricalCrossEntropyFromLogits, [0], [1], [z, z], [1, 2]);
      expect(close(value, Math.LN2, 1e-6, 0), `z = ${z}: loss ${value}`).toBe(true);
      expectAllClose(`z = ${z}: gradient`, grad, [-0.5, 0.5], 0, 1e-6);
    }
  });

  it("cross-entropy from logits of mixed magnitudes matches float64, value and gradient, one-hot and soft targets", () => {
    const targetSets = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.25, 0.25, 0.5], [0.125, 0.875, 0]];
    for (const row of MIXED_ROWS) {
      for (const t of targetSets) {
        const ref = crossEntropy64([row], [t]);
        const { value, grad } = lossAndGrad(categoricalCrossEntropyFromLogits, t, [1, 3], row, [1, 3]);
        expect(Number.isNaN(value), `row ${fmt(row)}, targets ${fmt(t)}: NaN loss`).toBe(false);
        expect(close(value, ref.value, 1e-6, 1e-6), `row ${fmt(row)}, targets ${fmt(t)}: loss ${value}, expected ${ref.value}`).toBe(true);
        expectAllClose(`row ${fmt(row)}, targets ${fmt(t)}: gradient`, grad, ref.grad, 1e-6, 1e-6);
      }
    }
  });

  it("a batch of mixed rows: the mean and every row's gradient match float64", () => {
    const rows = MIXED_ROWS.filter((r) => r.every((v) => Math.abs(v) < 1e31));
    const labels = rows.map((_, i) => i % 3);
    const onehot = labels.map((l) => [0, 1, 2].map((j) => (j === l ? 1 : 0)));
    const ref = crossEntropy64(rows, onehot);
    const sparse = lossAndGrad(sparseCategoricalCrossEntropyFromLogits, labels, [rows.length], rows.flat(), [rows.length, 3]);
    expect(close(sparse.value, ref.value, 1e-6, 1e-6), `loss ${sparse.value}, expected ${ref.value}`).toBe(true);
    expectAllClose("gradient", sparse.grad, ref.grad, 1e-6, 1e-7);
  });

  it("binary cross-entropy from logits matches float64 at ±0, ±1e5, ±2e7, ±1e30, ±3.4e38 for targets 0, 1, ½, 0.3 and 1 − 2⁻²⁴", () => {
    const targets = [0, 1, 0.5, 0.3, 1 - 2 ** -24].map(f32);
    for (const z of [0, -0, f32(1e-30), f32(-1e-30), f32(20), f32(-20), ...HUGE]) {
      for (const t of targets) {
        const { value, grad } = lossAndGrad(binaryCrossEntropyFromLogits, [t], [1, 1], [z], [1, 1]);
        const expected = bce64(z, t);
        expect(close(value, expected, 2e-6, 1e-7), `z = ${z}, t = ${t}: loss ${value}, expected ${expected}`).toBe(true);
        // d/dz = σ(z) − t, exactly 0.5 − t at z = 0 (the kink of max(z, 0) and |z| must not show)
        expectAllClose(`z = ${z}, t = ${t}: gradient`, grad, [sigmoid64(z) - t], 1e-6, 1e-7);
      }
    }
  });
});

forEachBackend("hostile numerics: logSumExp's gradient is the softmax at any magnitude", () => {
  it("logSumExp of each row matches float64, and its gradient is softmax(row), summing to 1", () => {
    for (const row of [...HUGE.map((z) => [z, z]), ...MIXED_ROWS]) {
      const { value, grads } = scope(() => {
        const r = valueAndGrad((x: Tensor) => sum(logSumExp(x, -1)))(tensor(row, [1, row.length]));
        return { value: r.value.item(), grads: Float32Array.from(r.grads[0]!.dataSync()) };
      });
      const m = Math.max(...row);
      const expected = m + shiftedRow(row).logSum;
      expect(close(value, expected, 1e-6, 1e-6), `logSumExp(${fmt(row)}) = ${value}, expected ${expected}`).toBe(true);
      expectAllClose(`logSumExp'(${fmt(row)})`, grads, softmax64(row), 1e-6, 1e-7);
    }
  });
});

forEachBackend("hostile numerics: log-softmax and softmax are exact for any finite row", () => {
  const rows: number[][] = [
    ...HUGE.map((z) => [z, z]),
    ...MIXED_ROWS,
    [f32(3.4e38), f32(3.4e38), f32(3.4e38), f32(3.4e38), f32(3.4e38)],
  ];
  const run = (name: "logSoftmax" | "softmax", row: number[], params: Record<string, number> = {}) => scope(() => {
    const act = bindActivation(softmaxFamily.activations.find((a: ActivationPlugin) => a.name === name)!, params);
    const g = tensor(row.map((_, j) => [1, -2, 0.5, 3, -1][j % 5]!), [1, row.length]);
    const { value, grads } = valueAndGrad((x: Tensor) => sum(mul(applyActivation(x, act), g)))(tensor(row, [1, row.length]));
    value.dispose();
    const y = scope(() => Float32Array.from(applyActivation(tensor(row, [1, row.length]), act).dataSync()));
    return { y, dx: Float32Array.from(grads[0]!.dataSync()), g: Array.from(g.dataSync()) };
  });

  it("logSoftmax of each row matches float64 (x − max − log Σ exp(x − max)), with gradient g − softmax·Σg", () => {
    for (const row of rows) {
      const { y, dx, g } = run("logSoftmax", row);
      const ls = logSoftmax64(row);
      expectAllClose(`logSoftmax(${fmt(row)})`, y, ls, 1e-6, 1e-6);
      const gSum = g.reduce((a, b) => a + b, 0);
      expectAllClose(`logSoftmax'(${fmt(row)})`, dx, softmax64(row).map((p, j) => g[j]! - p * gSum), 1e-5, 1e-6);
    }
  });

  it("logSoftmax at temperature ½ (the composed path) matches float64 on the same rows", () => {
    for (const row of rows) {
      const { y } = run("logSoftmax", row, { temperature: 0.5 });
      expectAllClose(`logSoftmax(${fmt(row)} / 0.5)`, y, logSoftmax64(row.map((v) => v / 0.5)), 1e-6, 1e-6);
    }
  });

  it("softmax of each row matches float64, with gradient p ⊙ (g − Σ g·p)", () => {
    for (const row of rows) {
      const { y, dx, g } = run("softmax", row);
      const p = softmax64(row);
      expectAllClose(`softmax(${fmt(row)})`, y, p, 1e-6, 1e-7);
      const dot = p.reduce((a, pj, j) => a + pj * g[j]!, 0);
      expectAllClose(`softmax'(${fmt(row)})`, dx, p.map((pj, j) => pj * (g[j]! - dot)), 1e-5, 1e-6);
    }
  });
});

// ---- cpu and wasm agree at the edges ----

const SPECIAL: readonly number[] = [
  0, -0, 1.401298464324817e-45, -1.401298464324817e-45, 1e-40, -1e-40, 1e-30, -1e-30, 1e-7, -1e-7, 3, -3, 20, -20,
  87.5, -87.5, 88, -88, 88.7, -88.7, 89, -89, 100, -100, 103, -103, 1e30, -1e30, FLT_MAX, -FLT_MAX, Infinity, -Infinity, NaN,
].map(f32);

/** prelu's slope is a weight; the other activations have none. */
const PRELU_SLOPE = 0.25;
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const softplus64 = (x: number, beta: number, threshold: number) => (beta * x > threshold ? x : Math.log1p(Math.exp(beta * x)) / beta);

/**
 * Independent float64 definitions (PyTorch's), for finite inputs. The ELU family takes the x ≤ 0 branch at
 * −0, where PyTorch computes (exp(x) − 1)·α = +0.
 */
const REFERENCE: Record<string, (x: number) => number> = {
  sigmoid: sigmoid64,
  tanh: Math.tanh,
  hardSigmoid: (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5),
  hardTanh: (x) => Math.min(Math.max(x, -1), 1),
  softsign: (x) => x / (1 + Math.abs(x)),
  logSigmoid: (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
  relu: (x) => (x < 0 ? 0 : x),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  leakyRelu: (x) => (x > 0 ? x : 0.01 * x),
  prelu: (x) => (x > 0 ? x : PRELU_SLOPE * x),
  elu: (x) => (x > 0 ? x : Math.expm1(x) + 0),
  selu: (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x) + 0),
  celu: (x) => (x > 0 ? x : Math.expm1(x) + 0),
  silu: (x) => x * sigmoid64(x),
  softplus: (x) => softplus64(x, 1, 20),
  hardSwish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  swish: (x) => x * sigmoid64(x),
  mish: (x) => x * Math.tanh(softplus64(x, 1, 20)),
  gelu: (x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)),
};

/** Activations whose output sign of zero at −0 is fixed by PyTorch's formula (+0 from (e^x − 1)·α). */
const POSITIVE_ZERO_AT_NEGATIVE_ZERO = ["elu", "selu", "celu"];

/** The activation's values and its derivatives (the gradient of Σ y) at every special input. */
async function outputsOn(backend: string, plugin: ActivationPlugin): Promise<{ y: Float32Array; dydx: Float32Array }> {
  await setBackend(backend);
  return scope(() => {
    const weights: Record<string, Tensor> = plugin.name === "prelu" ? { alpha: tensor(PRELU_SLOPE) } : {};
    const act = bindActivation(plugin);
    const x = tensor(SPECIAL);
    const y = Float32Array.from(applyActivation(x, act, weights).dataSync());
    const [dydx] = grad((t: Tensor) => sum(applyActivation(t, act, weights)))(x);
    return { y, dydx: Float32Array.from(dydx!.dataSync()) };
  });
}

const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

/**
 * Same NaNs, the same sign of every zero (unless `signedZeros` is false), and otherwise {@link agree}: what
 * two backends must satisfy.
 */
function expectSameEdges(what: string, a: ArrayLike<number>, b: ArrayLike<number>, names: readonly string[], signedZeros = true): void {
  SPECIAL.forEach((x, i) => {
    const u = a[i]!;
    const v = b[i]!;
    const where = `${what}(${show(x)}): ${names[0]} ${show(u)}, ${names[1]} ${show(v)}`;
    expect(Number.isNaN(u), where).toBe(Number.isNaN(v));
    if (u === 0 && v === 0) expect(!signedZeros || Object.is(u, v), `${where}: the sign of zero differs`).toBe(true);
    else if (!Number.isNaN(u)) expect(u === v || agree(u, v, x), where).toBe(true);
  });
}

/**
 * Relative agreement, with an absolute floor of a few subnormal steps (2⁻¹⁴⁹) per unit of |x|: a float32
 * intermediate in the subnormal range keeps only absolute precision, which a factor x then scales.
 */
const agree = (a: number, b: number, x: number) =>
  Math.abs(a - b) <= Math.max(2e-5 * Math.max(Math.abs(a), Math.abs(b)), 4 * 1.401298464324817e-45 * Math.max(1, Math.abs(x)));

describe(`hostile numerics: ${BACKENDS.join(" and ")} agree at the edges`, () => {
  const elementwise = [sigmoidFamily, reluFamily, smoothFamily].flatMap((f) => f.activations).filter((a) => a.type !== "axis");

  it.each(elementwise.map((p) => ({ name: p.name, plugin: p })))("$name: same NaNs, same signed zeros, values and derivatives within tolerance, on special inputs", async ({ name, plugin }) => {
    const outputs: { y: Float32Array; dydx: Float32Array }[] = [];
    for (const backend of BACKENDS) outputs.push(await outputsOn(backend, plugin));
    for (let k = 1; k < BACKENDS.length; k++) {
      const names = [BACKENDS[0]!, BACKENDS[k]!];
      expectSameEdges(name, outputs[0]!.y, outputs[k]!.y, names);
      // a derivative's zero is compared without its sign: gelu'(−20) is a float64 −2.7e-86 on cpu (−0) and
      // +0 + −0 from float32 terms on wasm, and no gradient step can tell them apart
      expectSameEdges(`${name}'`, outputs[0]!.dydx, outputs[k]!.dydx, names, false);
    }
    const definition = REFERENCE[name];
    // every activation of the families has its float64 definition here (a new one must add it)
    expect(definition, `no float64 reference for ${name} in REFERENCE`).toBeDefined();
    if (!definition) return;
    outputs.forEach(({ y }, k) => {
      SPECIAL.forEach((x, i) => {
        if (!Number.isFinite(x)) return;
        const e = f32(definition(x));
        const a = y[i]!;
        const where = `${name}(${show(x)}) on ${BACKENDS[k]}: got ${show(a)}, float64 reference ${show(e)}`;
        if (e === 0 && a === 0 && (POSITIVE_ZERO_AT_NEGATIVE_ZERO.includes(name) || name === "relu")) expect(Object.is(a, e), where).toBe(true);
        else expect(a === e || agree(a, e, x), where).toBe(true);
      });
    });
  });

  const PRIMITIVES: { name: string; op: (t: Tensor) => Tensor; reference?: (x: number) => number }[] = [
    { name: "exp", op: exp, reference: Math.exp },
    { name: "expm1", op: expm1, reference: Math.expm1 },
    { name: "log", op: log, reference: Math.log },
    { name: "log1p", op: log1p, reference: Math.log1p },
    { name: "sqrt", op: sqrt, reference: Math.sqrt },
    { name: "tanh", op: tanh, reference: Math.tanh },
    { name: "sigmoid", op: sigmoid, reference: sigmoid64 },
    { name: "erf", op: erf },
    { name: "neg", op: neg, reference: (x) => -x },
    { name: "abs", op: abs, reference: Math.abs },
    { name: "sign", op: sign, reference: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN) },
    { name: "floor", op: floor, reference: Math.floor },
  ];

  it.each(PRIMITIVES)("primitive $name: same NaNs, same signed zeros, values within tolerance of each other and of Math", async ({ name, op, reference }) => {
    const outputs: Float32Array[] = [];
    for (const backend of BACKENDS) {
      await setBackend(backend);
      outputs.push(scope(() => Float32Array.from(op(tensor(SPECIAL)).dataSync())));
    }
    for (let k = 1; k < BACKENDS.length; k++) expectSameEdges(name, outputs[0]!, outputs[k]!, [BACKENDS[0]!, BACKENDS[k]!]);
    if (!reference) return;
    outputs.forEach((y, k) => {
      // the float64 result rounded to float32, NaN and the sign of zero included
      expectSameEdges(name, y, SPECIAL.map((x) => f32(reference(x))), [BACKENDS[k]!, "float64"]);
    });
  });

  it("elu, selu and celu of −0 are +0 on every backend, as PyTorch's (exp(x) − 1)·α", async () => {
    for (const backend of BACKENDS) {
      await setBackend(backend);
      for (const name of POSITIVE_ZERO_AT_NEGATIVE_ZERO) {
        const plugin = reluFamily.activations.find((a: ActivationPlugin) => a.name === name)!;
        const y = scope(() => applyActivation(tensor([-0, 0, -0, -0, -0]), bindActivation(plugin)).dataSync()[0]!);
        expect(Object.is(y, 0), `${name}(−0) on ${backend} is ${Object.is(y, -0) ? "-0" : y}`).toBe(true);
      }
    }
  });

  it("sigmoid(−100) is the float32 rounding of e^−100/(1 + e^−100), a subnormal, on every backend", async () => {
    const expected = f32(sigmoid64(-100));
    expect(expected).toBeGreaterThan(0);
    for (const backend of BACKENDS) {
      await setBackend(backend);
      const plugin = sigmoidFamily.activations.find((a: ActivationPlugin) => a.name === "sigmoid")!;
      // five lanes: the SIMD loop and its scalar tail both run on wasm
      const y = scope(() => Array.from(applyActivation(tensor([-100, -100, -100, -100, -100]), bindActivation(plugin)).dataSync()));
      expect(y, backend).toEqual([expected, expected, expected, expected, expected]);
    }
  });
});
