import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import {
  type ActivationPlugin, type ActivationSpec, BINARY_OPS, type Expr, type LayerSpec, UNARY_OPS, binary, constant, defineActivation, sequential, unary, use,
} from "@neurite/core";
import { expect, it } from "vitest";
import { EXACT_OPERATORS, decodeOnnx, exportOnnx } from "../src/index.js";
import { forEachBackend, mismatches, predictValues, runOrt, seededInputs } from "./helpers.js";

use(reluFamily, sigmoidFamily, smoothFamily, softmaxFamily);

/** The example app's user activation, declared with the builder API. */
const bentIdentity = defineActivation({
  name: "bentIdentity", family: "custom", package: "onnx-test", version: "1.0.0",
  description: "(sqrt(x² + 1) − 1)/2 + x", params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x) => x.square().add(1).sqrt().sub(1).div(2).add(x),
});

/** A user activation given as a string formula, with a parameter. */
const squareplus = defineActivation<{ b: number }>({
  name: "squareplus", family: "custom", package: "onnx-test", version: "1.0.0",
  description: "(x + √(x² + b))/2", params: { b: { default: 4, min: 0 } },
  meta: { range: [0, Infinity], monotonic: true, smoothAtZero: true },
  // the well-conditioned form: below 0, (x + h)/2 = b / (2·(h − x)) with no cancellation
  formula: "where(x < 0, b / (2 * (hypot(x, sqrt(b)) - x)), (x + hypot(x, sqrt(b))) / 2)",
});

/** A user activation with a per-channel trainable parameter: a·tanh(x). */
const scaledTanh = defineActivation<{ a: number }>({
  name: "scaledTanh", family: "custom", package: "onnx-test", version: "1.0.0",
  description: "a·tanh(x), a learned per channel", params: { a: { default: 1.5, trainable: true, perChannel: true } },
  meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x, p) => x.tanh().mul(p.a),
});

/**
 * One activation per primitive of the expression language, applied to x over the whole test range (NaN where the
 * primitive is undefined there), so every lowering meets ONNX Runtime on its own.
 */
const primitiveCases: Case[] = [
  ...UNARY_OPS.map((op) => ({ label: `primitive ${op}(x)`, formula: (x: Expr) => unary(op, x) })),
  ...BINARY_OPS.flatMap((op) => [
    { label: `primitive ${op}(x, 1.5)`, formula: (x: Expr) => binary(op, x, 1.5) },
    { label: `primitive ${op}(-2, x)`, formula: (x: Expr) => binary(op, constant(-2), x) },
  ]),
  { label: "primitive pow(x, 3)", formula: (x: Expr) => x.pow(3) },
  { label: "primitive where(x > 1, x, 0.5x)", formula: (x: Expr) => x.gt(1).where(x, x.mul(0.5)) },
  { label: "primitive where(sin(x), 1, x)", formula: (x: Expr) => x.sin().where(1, x) },
].map(({ label, formula }) => ({
  label,
  activation: defineActivation({
    name: "primitive", family: "custom", package: "onnx-test", version: "1.0.0", description: label, params: {},
    meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: false }, formula,
  }),
}));

interface Case {
  readonly label: string;
  readonly activation: ActivationSpec;
}

const familyCases: Case[] = [reluFamily, sigmoidFamily, smoothFamily, softmaxFamily].flatMap((fam) =>
  fam.activations.map((a: ActivationPlugin) => ({ label: `${a.package}:${a.name}`, activation: a })),
);
const paramCases: Case[] = [
  { label: "leakyRelu alpha 0.2", activation: { name: "leakyRelu", alpha: 0.2 } },
  { label: "elu alpha 2", activation: { name: "elu", alpha: 2 } },
  { label: "celu alpha 0.5", activation: { name: "celu", alpha: 0.5 } },
  { label: "hardTanh [-2, 0.5]", activation: { name: "hardTanh", minVal: -2, maxVal: 0.5 } },
  { label: "softplus beta 2 threshold 10", activation: { name: "softplus", beta: 2, threshold: 10 } },
  { label: "gelu tanh", activation: { name: "gelu", approximate: "tanh" } },
  { label: "swish beta 1.7", activation: { name: "swish", beta: 1.7 } },
  { label: "softmax temperature 2.5", activation: { name: "softmax", temperature: 2.5 } },
  { label: "logSoftmax axis 1", activation: { name: "logSoftmax", axis: 1 } },
];
const userCases: Case[] = [
  { label: "bentIdentity (builder)", activation: bentIdentity },
  { label: "squareplus (string formula)", activation: squareplus },
  { label: "scaledTanh (trainable per channel)", activation: scaledTanh },
];

const FEATURES = 8;
const ROWS = 96;

forEachBackend("export → ONNX Runtime agrees with predict", () => {
  const x = seededInputs(ROWS * FEATURES, 7);
  for (const c of [...familyCases, ...paramCases, ...userCases, ...primitiveCases]) {
    for (const [opset, exactOperators] of [[17, true], [17, false], [20, true]] as const) {
      it(`${c.label}, opset ${opset}${exactOperators ? "" : ", lowered from the formula"}`, async () => {
        const model = sequential([{ type: "activation", activation: c.activation, inputShape: [FEATURES] }]);
        const want = predictValues(model, x, [ROWS, FEATURES]);
        const got = await runOrt(exportOnnx(model, { opset, exactOperators }), x, [ROWS, FEATURES]);
        model.dispose();
        expect(mismatches(got, want, x)).toEqual([]);
      });
    }
  }

  it("each exact operator is written where it applies, and agrees on ONNX Runtime with the formula lowered", async () => {
    const written: string[] = [];
    for (const [key, exact] of EXACT_OPERATORS) {
      const plugin = familyCases.map((c) => c.activation as ActivationPlugin).find((p) => `${p.package}:${p.name}` === key);
      expect(plugin, key).toBeDefined();
      const model = sequential([{ type: "activation", activation: plugin!, inputShape: [FEATURES] }]);
      const withOp = exportOnnx(model, { opset: 21 });
      expect(decodeOnnx(withOp).graph?.node?.map((n) => n.op_type), key).toContain(exact.opType);
      written.push(exact.opType);
      const [a, b] = await Promise.all([runOrt(withOp, x, [ROWS, FEATURES]), runOrt(exportOnnx(model, { opset: 21, exactOperators: false }), x, [ROWS, FEATURES])]);
      expect(mismatches(a, b, x), key).toEqual([]);
      model.dispose();
    }
    expect(new Set(written).size).toBeGreaterThanOrEqual(14);
  });

  it("a model with every layer type, dense activations and trainable parameters", async () => {
    const model = sequential([
      { type: "flatten", inputShape: [2, 4] },
      { type: "dense", units: 16, activation: "prelu" },
      { type: "dropout", rate: 0.3 },
      { type: "layerNormalization" },
      { type: "dense", units: 12, activation: { name: "elu", alpha: 0.7 } },
      { type: "activation", activation: scaledTanh },
      { type: "dense", units: 10, activation: bentIdentity, useBias: false },
      { type: "dense", units: 5, activation: "gelu" },
      { type: "activation", activation: "softmax" },
    ] as LayerSpec[], { seed: 3 });
    const xs = seededInputs(64 * 8, 11);
    const want = predictValues(model, xs, [64, 2, 4]);
    for (const opset of [17, 20]) {
      const got = await runOrt(exportOnnx(model, { opset }), xs, [64, 2, 4]);
      expect(mismatches(got, want)).toEqual([]);
    }
    model.dispose();
  });

  it("dense on 3-D input (MatMul + Add) agrees", async () => {
    const model = sequential([{ type: "dense", units: 3, activation: "tanh", inputShape: [4, 5] }], { seed: 5 });
    const xs = seededInputs(6 * 4 * 5, 13);
    const want = predictValues(model, xs, [6, 4, 5]);
    expect(mismatches(await runOrt(exportOnnx(model), xs, [6, 4, 5]), want)).toEqual([]);
    model.dispose();
  });
});
