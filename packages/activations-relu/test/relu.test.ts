import { cpuBackend } from "@neurite/backend-cpu";
import {
  type ActivationName, type ActivationSpec, ArgumentError, type Tensor, activationMeta, applyActivation, bindActivation, grad,
  resolveActivation, sequential, setBackend, sum, tensor, use, valueAndGradOf,
} from "@neurite/core";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { checkActivation, runActivationFile, torchOpsFor } from "@neurite/testkit";
import { celu, elu, hardSwish, leakyRelu, prelu, relu, relu6, reluFamily, selu } from "../src/index.js";

const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

beforeAll(async () => {
  use(cpuBackend, reluFamily);
  await setBackend("cpu");
});

/** f(x) and f'(x) on the cpu backend (prelu's slope passed as its weight). */
function values(spec: ActivationSpec, xs: number[]): { y: number[]; dy: number[] } {
  const act = resolveActivation(spec);
  const x = tensor(xs);
  const ws: Record<string, Tensor> = {};
  if (act.plugin.name === "prelu") ws.alpha = tensor([act.params.alpha as number]);
  const y = Array.from(applyActivation(x, act, ws).dataSync());
  const [dx] = grad((t: Tensor) => sum(applyActivation(t, act, ws)))(x);
  return { y, dy: Array.from(dx!.dataSync()) };
}

/**
 * Independent float64 definitions, written from PyTorch's documentation (torch.nn.ReLU, ReLU6, LeakyReLU, PReLU,
 * ELU, SELU, CELU, Hardswish), not from the declarations: the judges of the formulas for every parameter set.
 * At ±∞ they give what PyTorch's expressions give.
 */
// PyTorch's 1.6732632423543772848170429916717 and 1.0507009873554804934193349852946, parsed to the nearest float64
const SELU_ALPHA = Number("1.6732632423543772848170429916717");
const SELU_SCALE = Number("1.0507009873554804934193349852946");
type P = Readonly<Record<string, unknown>>;
const num = (p: P, k: string): number => p[k] as number;
const REFERENCES: Readonly<Record<string, (x: number, p: P) => number>> = {
  relu: (x) => Math.max(0, x),
  relu6: (x) => Math.min(Math.max(0, x), 6),
  leakyRelu: (x, p) => (x > 0 ? x : num(p, "alpha") * x),
  prelu: (x, p) => (x > 0 ? x : num(p, "alpha") * x),
  elu: (x, p) => (x > 0 ? x : num(p, "alpha") * Math.expm1(x)),
  selu: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  celu: (x, p) => Math.max(0, x) + Math.min(0, num(p, "alpha") * Math.expm1(x / num(p, "alpha"))),
  // PyTorch's expression x·relu6(x + 3)/6: NaN at −∞ (−∞·0), as torch gives
  hardSwish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
};

describe("checkActivation on every relu-family activation", () => {
  const cases = [
    [relu, [{}, { gradAtZero: 0.5 }, { gradAtZero: 1 }]],
    [relu6, [{}]],
    [leakyRelu, [{}, { alpha: 0.2 }, { alpha: 0 }, { alpha: 1 }]],
    [prelu, [{}, { alpha: -0.5 }, { alpha: 1 }]],
    [elu, [{}, { alpha: 0.5 }, { alpha: 2 }]],
    [selu, [{}]],
    [celu, [{}, { alpha: 0.5 }, { alpha: 3 }]],
    [hardSwish, [{}]],
  ] as const;
  it.each(cases.map(([plugin, params]) => ({ name: plugin.name, plugin, params })))("$name passes with default and non-default parameters", async ({ plugin, params }) => {
    const report = await checkActivation(plugin, { backends: ["cpu"], params, numRuns: 50, reference: REFERENCES[plugin.name]! });
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.results.filter((r) => r.check === "reference")).toHaveLength(params.length);
    expect(new Set(report.results.map((r) => r.check).filter((c) => c !== "advice"))).toEqual(
      new Set(["params", "serialization", "reference", "derivative", "range", "smoothAtZero", "forward", "gradient",
        ...(plugin.name === "hardSwish" ? [] : ["monotonic"]),
        ...(plugin.name === "prelu" ? ["trainable"] : [])]),
    );
  });
});

describe("PyTorch reference values", () => {
  it("every relu-family case of activations.json passes on cpu", async () => {
    const { readFile } = await import("node:fs/promises");
    const json: unknown = JSON.parse(await readFile(REFERENCE, "utf8"));
    const ops = torchOpsFor(reluFamily.activations.map((a) => a.name));
    const results = (await runActivationFile(json, { backends: ["cpu"], file: "activations.json" })).filter((r) => ops.includes(r.op));
    expect(new Set(results.map((r) => r.op))).toEqual(new Set(["relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "hardswish"]));
    expect(results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.message}`)).toEqual([]);
  });
});

describe("kink conventions and special values (PyTorch's)", () => {
  it("relu'(0) is gradAtZero; relu keeps −0 and NaN", () => {
    expect(values("relu", [0, -0, 2, -2]).dy).toEqual([0, 0, 1, 0]);
    expect(values({ name: "relu", gradAtZero: 0.5 }, [0]).dy).toEqual([0.5]);
    expect(values({ name: "relu", gradAtZero: 1 }, [0]).dy).toEqual([1]);
    const { y } = values("relu", [-0, NaN, -Infinity, Infinity]);
    expect(Object.is(y[0], -0)).toBe(true);
    expect(y.slice(1)).toEqual([NaN, 0, Infinity]);
  });

  it("leakyRelu'(0) = alpha, elu'(0) = alpha, prelu'(0) = weight, celu'(0) = 1", () => {
    expect(values({ name: "leakyRelu", alpha: 0.2 }, [0]).dy[0]).toBeCloseTo(0.2, 7);
    expect(values({ name: "elu", alpha: 0.5 }, [0]).dy).toEqual([0.5]);
    expect(values({ name: "prelu", alpha: 0.3 }, [0]).dy[0]).toBeCloseTo(0.3, 7);
    expect(values({ name: "celu", alpha: 2 }, [0]).dy).toEqual([1]);
  });

  it("relu6 has gradient 0 at 0 and at 6, 1 between", () => {
    expect(values("relu6", [0, 6, 3, -1, 7]).dy).toEqual([0, 0, 1, 0, 0]);
  });

  it("hardSwish: gradient (2x + 3)/6 on [−3, 3), 0 below, 1 from 3; NaN at −Infinity as torch", () => {
    const { y, dy } = values("hardSwish", [-3, 3, -4, 4, 0]);
    expect(dy).toEqual([-0.5, 1, 0, 1, 0.5]);
    expect(y.map((v) => v + 0)).toEqual([0, 3, 0, 4, 0]); // zeros compared without their sign
    expect(values("hardSwish", [-Infinity]).y).toEqual([NaN]);
  });

  it("NaN in gives NaN out for every activation", () => {
    for (const a of reluFamily.activations) expect(values(a.name as ActivationName, [NaN]).y, a.name).toEqual([NaN]);
  });

  it("elu and selu approach −alpha and −scale·alpha, and stay finite at −3.4e38", () => {
    expect(values({ name: "elu", alpha: 2 }, [-3.4e38]).y[0]).toBe(-2);
    expect(values("selu", [-Infinity]).y[0]).toBeCloseTo(-1.0507009873554805 * 1.6732632423543772, 6);
  });
});

describe("metadata and parameters", () => {
  it("ranges follow the parameters", () => {
    expect(activationMeta(bindActivation(elu, { alpha: 2 })).range).toEqual([-2, Infinity]);
    expect(activationMeta(bindActivation(leakyRelu, { alpha: 0 })).range).toEqual([0, Infinity]);
    expect(activationMeta(bindActivation(prelu, { alpha: -1 })).monotonic).toBe(false);
    expect(activationMeta(bindActivation(leakyRelu, { alpha: 1 })).smoothAtZero).toBe(true);
  });

  it("rejects invalid parameters with an ArgumentError naming them", () => {
    expect(() => bindActivation(relu, { gradAtZero: 2 })).toThrow(ArgumentError);
    expect(() => bindActivation(relu, { gradAtZero: 2 })).toThrow(/gradAtZero/);
    expect(() => bindActivation(celu, { alpha: 0 })).toThrow(/alpha/);
    expect(() => bindActivation(leakyRelu, { alpha: -0.1 })).toThrow(/alpha/);
  });

  it("prelu's slope is a weight of the dense layer, initialised to alpha, with gradient Σ min(z, 0)", () => {
    const model = sequential([{ type: "dense", units: 3, activation: { name: "prelu", alpha: 0.2 }, inputShape: [2] }], { seed: 1 });
    model.build([2]);
    const [kernel, bias, alpha] = model.trainableWeights;
    expect(alpha!.dataSync()[0]).toBeCloseTo(0.2, 7);
    const x = tensor([[1, -2], [-0.5, 0.25], [2, 3]]);
    const { grads } = valueAndGradOf(() => sum(model.apply(x, { training: true })), model.trainableWeights);
    // z = x·W + b by hand, then ∂/∂alpha Σ prelu(z) = Σ min(z, 0)
    const w = kernel!.dataSync();
    const b = bias!.dataSync();
    const xs = x.dataSync();
    let expected = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) expected += Math.min(0, xs[2 * i]! * w[j]! + xs[2 * i + 1]! * w[3 + j]! + b[j]!);
    }
    expect(grads[2]!.dataSync()[0]).toBeCloseTo(expected, 5);
  });
});

describe("typed activation names", () => {
  it("names and parameters type-check only as installed", () => {
    const byName: ActivationSpec = "elu";
    const withParams: ActivationSpec = { name: "leakyRelu", alpha: 0.2 };
    const relu0: ActivationSpec = { name: "relu", gradAtZero: 0.5 };
    // @ts-expect-error a misspelled name is not an installed activation
    const misspelled: ActivationSpec = "leakyRelo";
    // @ts-expect-error gradAtZero is 0, 0.5 or 1
    const badChoice: ActivationSpec = { name: "relu", gradAtZero: 2 };
    // @ts-expect-error elu's alpha is a number
    const badType: ActivationSpec = { name: "elu", alpha: "1" };
    expectTypeOf<"prelu">().toExtend<ActivationName>();
    expectTypeOf<"hardSwish">().toExtend<ActivationName>();
    expect([byName, withParams, relu0, misspelled, badChoice, badType]).toHaveLength(6);
    // and in a model definition
    const model = sequential([{ type: "dense", units: 8, activation: "elu", inputShape: [4] }, { type: "dense", units: 2, activation: { name: "leakyRelu", alpha: 0.2 } }]);
    expect(model.layers).toHaveLength(2);
  });
});
