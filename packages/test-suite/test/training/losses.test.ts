/**
 * Every loss (by function and by compile() name) against its float64 formula written out here, value and
 * gradient; the from-logits forms stay finite for logits of ±1e4; the fused softmax + cross-entropy of a
 * model's last layer has the gradient (softmax − onehot)/N.
 */
import {
  type LossSpec, Random, type Tensor, Variable, binaryCrossEntropy, binaryCrossEntropyFromLogits, categoricalCrossEntropy,
  categoricalCrossEntropyFromLogits, mae, mse, resolveLoss, scope, sequential, sgd, sparseCategoricalCrossEntropy,
  sparseCategoricalCrossEntropyFromLogits, tensor, valueAndGrad,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

beforeAll(setupCpu);

const N = 6;
const C = 4;
const rng = new Random(2024);
const f32 = (v: number) => Math.fround(v);
const uniform = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => f32(lo + (hi - lo) * rng.next()));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** |a − e| ≤ rtol·|e| + atol, elementwise, with the first offending index in the message. */
function expectClose(actual: ArrayLike<number>, expected: readonly number[], rtol: number, atol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i]! - expected[i]!) <= rtol * Math.abs(expected[i]!) + atol;
    if (!ok) expect.fail(`index ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** The loss's value and its gradient with respect to the prediction (float32 engine). */
function run(loss: (t: Tensor, p: Tensor) => Tensor, targets: number[], targetShape: number[], pred: number[], predShape: number[]): { value: number; grad: Float32Array } {
  return scope(() => {
    const t = tensor(targets, targetShape);
    const { value, grads } = valueAndGrad((p: Tensor) => loss(t, p))(tensor(pred, predShape));
    return { value: value.item(), grad: Float32Array.from(grads[0]!.dataSync()) };
  });
}

interface Case {
  name: string;
  specs: LossSpec[];
  fn: (t: Tensor, p: Tensor) => Tensor;
  targets: number[];
  targetShape: number[];
  pred: number[];
  /** float64 value and gradient, from the formulas. */
  ref: (t: number[], p: number[]) => { value: number; grad: number[] };
}

const probs = (rows: number[][]) => rows.map((r) => { const s = r.reduce((a, b) => a + b, 0); return r.map((v) => f32(v / s)); });
const rowsOf = (v: number[], c: number) => Array.from({ length: v.length / c }, (_, r) => v.slice(r * c, r * c + c));
const labels = Array.from({ length: N }, (_, i) => (i * 3) % C);
const onehot = labels.flatMap((l) => Array.from({ length: C }, (_, j) => (j === l ? 1 : 0)));
const predProbs = probs(rowsOf(uniform(N * C, 0.05, 1), C)).flat();
const logits = uniform(N * C, -4, 4);
const binTargets = Array.from({ length: N * C }, (_, i) => (i % 3 === 0 ? 1 : 0));

function softmaxRow(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const CASES: Case[] = [
  {
    name: "mse", specs: ["mse"], fn: mse, targets: uniform(N * C, -1, 1), targetShape: [N, C], pred: uniform(N * C, -1, 1),
    ref: (t, p) => ({ value: p.reduce((s, v, i) => s + (v - t[i]!) ** 2, 0) / p.length, grad: p.map((v, i) => (2 * (v - t[i]!)) / p.length) }),
  },
  {
    name: "mae", specs: ["mae"], fn: mae, targets: uniform(N * C, -1, 1), targetShape: [N, C], pred: uniform(N * C, -1, 1),
    ref: (t, p) => ({ value: p.reduce((s, v, i) => s + Math.abs(v - t[i]!), 0) / p.length, grad: p.map((v, i) => Math.sign(v - t[i]!) / p.length) }),
  },
  {
    name: "binary cross-entropy from probabilities", specs: ["binaryCrossEntropy", { name: "binaryCrossEntropy" }], fn: binaryCrossEntropy,
    targets: binTargets, targetShape: [N, C], pred: uniform(N * C, 0.02, 0.98),
    ref: (t, p) => ({
      value: -p.reduce((s, v, i) => s + t[i]! * Math.log(v) + (1 - t[i]!) * Math.log(1 - v), 0) / p.length,
      grad: p.map((v, i) => (v - t[i]!) / (v * (1 - v)) / p.length),
    }),
  },
  {
    name: "binary cross-entropy from logits", specs: [{ name: "binaryCrossEntropy", fromLogits: true }], fn: binaryCrossEntropyFromLogits,
    targets: binTargets, targetShape: [N, C], pred: logits,
    ref: (t, z) => ({
      value: z.reduce((s, v, i) => s + Math.max(v, 0) - v * t[i]! + Math.log1p(Math.exp(-Math.abs(v))), 0) / z.length,
      grad: z.map((v, i) => (sigmoid(v) - t[i]!) / z.length),
    }),
  },
  {
    name: "categorical cross-entropy from probabilities", specs: ["categoricalCrossEntropy"], fn: categoricalCrossEntropy,
    targets: onehot, targetShape: [N, C], pred: predProbs,
    ref: (t, p) => ({ value: -p.reduce((s, v, i) => s + t[i]! * Math.log(v), 0) / N, grad: p.map((v, i) => -t[i]! / v / N) }),
  },
  {
    name: "categorical cross-entropy from logits", specs: [{ name: "categoricalCrossEntropy", fromLogits: true }], fn: categoricalCrossEntropyFromLogits,
    targets: onehot, targetShape: [N, C], pred: logits,
    ref: (t, z) => {
      let value = 0;
      const grad = rowsOf(z, C).flatMap((row, r) => {
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        row.forEach((v, j) => (value += (t[r * C + j]! * (lse - v)) / N));
        return softmaxRow(row).map((p, j) => (p - t[r * C + j]!) / N);
      });
      return { value, grad };
    },
  },
  {
    name: "sparse categorical cross-entropy from probabilities", specs: ["sparseCategoricalCrossEntropy"], fn: sparseCategoricalCrossEntropy,
    targets: labels, targetShape: [N], pred: predProbs,
    ref: (l, p) => ({
      value: -l.reduce((s, label, r) => s + Math.log(p[r * C + label]!), 0) / N,
      grad: p.map((v, i) => (i % C === l[Math.floor(i / C)] ? -1 / v / N : 0)),
    }),
  },
  {
    name: "sparse categorical cross-entropy from logits", specs: [{ name: "sparseCategoricalCrossEntropy", fromLogits: true }], fn: sparseCategoricalCrossEntropyFromLogits,
    targets: labels, targetShape: [N], pred: logits,
    ref: (l, z) => {
      let value = 0;
      const grad = rowsOf(z, C).flatMap((row, r) => {
        const m = Math.max(...row);
        value += (m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[l[r]!]!) / N;
        return softmaxRow(row).map((p, j) => (p - (j === l[r] ? 1 : 0)) / N);
      });
      return { value, grad };
    },
  },
];

describe("losses against their float64 formulas", () => {
  for (const c of CASES) {
    it(`${c.name}: value and gradient, as a function and through every compile() spelling`, () => {
      const ref = c.ref(c.targets, c.pred);
      for (const fn of [c.fn, ...c.specs.map((s) => resolveLoss(s).fn)]) {
        const got = run(fn, c.targets, c.targetShape, c.pred, [N, C]);
        expectClose([got.value], [ref.value], 1e-5, 1e-6);
        expectClose(got.grad, ref.grad, 1e-4, 1e-7);
      }
    });
  }

  it("binary cross-entropy from probabilities clamps log at −100 as PyTorch (p = 0 or 1 stays finite)", () => {
    const got = run(binaryCrossEntropy, [1, 0, 1, 0], [4], [0, 1, 1, 0], [4]);
    expect(got.value).toBeCloseTo((100 + 100 + 0 + 0) / 4, 4);
  });
});

describe("from-logits losses with huge logits", () => {
  it("binary cross-entropy stays finite and exact at ±1e4", () => {
    const z = [1e4, -1e4, 1e4, -1e4, 0];
    const t = [1, 0, 0, 1, 1];
    const got = run(binaryCrossEntropyFromLogits, t, [5], z, [5]);
    // per element: 0, 0, 1e4, 1e4, log 2
    expect(got.value).toBeCloseTo((2e4 + Math.LN2) / 5, 2);
    expectClose(got.grad, [0, 0, 1 / 5, -1 / 5, -0.5 / 5], 1e-6, 1e-7);
  });

  it("categorical and sparse cross-entropy stay finite and exact at ±1e4", () => {
    const z = [1e4, 0, -1e4, -1e4, 0, 1e4];
    for (const [fn, t, shape] of [
      [categoricalCrossEntropyFromLogits, [1, 0, 0, 1, 0, 0], [2, 3]],
      [sparseCategoricalCrossEntropyFromLogits, [0, 0], [2]],
    ] as const) {
      const got = run(fn, [...t], [...shape], z, [2, 3]);
      // row 0 is right with certainty (loss 0); row 1 puts all mass on class 2 but the label is 0: loss 2e4
      expect(got.value).toBeCloseTo(2e4 / 2, 2);
      expectClose(got.grad, [0, 0, 0, -0.5, 0, 0.5], 1e-6, 1e-7);
    }
  });
});

describe("the fused softmax + cross-entropy of a model", () => {
  it("has the gradient (softmax − onehot)/N: one SGD step with lr 1 moves W by −xᵀ(softmax(z) − onehot)/N", () => {
    const inF = 3;
    const x = uniform(N * inF, -1, 1);
    const W = uniform(inF * C, -1, 1);
    const b = uniform(C, -0.5, 0.5);
    const model = sequential([{ type: "dense", units: C, activation: "softmax", inputShape: [inF] }]);
    const [kernel, bias] = model.weights as [Variable, Variable];
    scope(() => {
      kernel.assign(tensor(W, [inF, C]));
      bias.assign(tensor(b, [C]));
    });
    model.compile({ optimizer: sgd({ lr: 1 }), loss: "categoricalCrossEntropy" });
    const xT = tensor(x, [N, inF]);
    const yT = tensor(onehot, [N, C]);
    const { loss } = model.trainOnBatch(xT, yT);
    // float64 reference
    const dz = rowsOf(x, inF).map((row, r) => {
      const z = Array.from({ length: C }, (_, j) => row.reduce((s, v, i) => s + v * W[i * C + j]!, b[j]!));
      return softmaxRow(z).map((p, j) => (p - onehot[r * C + j]!) / N);
    });
    let value = 0;
    rowsOf(x, inF).forEach((row, r) => {
      const z = Array.from({ length: C }, (_, j) => row.reduce((s, v, i) => s + v * W[i * C + j]!, b[j]!));
      value -= Math.log(softmaxRow(z)[labels[r]!]!) / N;
    });
    expectClose([loss!], [value], 1e-5, 1e-6);
    const dW = Array.from({ length: inF * C }, (_, k) => rowsOf(x, inF).reduce((s, row, r) => s + row[Math.floor(k / C)]! * dz[r]![k % C]!, 0));
    const db = Array.from({ length: C }, (_, j) => dz.reduce((s, row) => s + row[j]!, 0));
    expectClose(kernel.dataSync(), W.map((w, k) => w - dW[k]!), 1e-5, 1e-6);
    expectClose(bias.dataSync(), b.map((v, j) => v - db[j]!), 1e-5, 1e-6);
    model.dispose();
    xT.dispose();
    yT.dispose();
  });

  it("stays finite when the model's logits are huge (no log of an underflowed probability)", () => {
    const model = sequential([{ type: "dense", units: 3, activation: "softmax", inputShape: [1], useBias: false }]);
    scope(() => model.weights[0]!.assign(tensor([[1e4, 0, -1e4]])));
    model.compile({ optimizer: sgd({ lr: 0 }), loss: "sparseCategoricalCrossEntropy" });
    const x = tensor([[1], [1]]);
    const y = tensor([0, 2]);
    // row 0: label 0 has all the mass (loss 0); row 1: label 2 has logit −1e4 against 1e4 (loss 2e4)
    const { loss } = model.evaluate(x, y);
    expect(loss).toBeCloseTo(1e4, 2);
    model.dispose();
    x.dispose();
    y.dispose();
  });
});
