import { readFile } from "node:fs/promises";
import { cpuBackend } from "@neurite/backend-cpu";
import {
  type ActivationName, type ActivationSpec, ArgumentError, type Tensor, activationMeta, applyActivation, bindActivation, grad,
  resolveActivation, sequential, setBackend, sum, tensor, use,
} from "@neurite/core";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { checkActivation, runActivationFile, torchOpsFor } from "@neurite/testkit";
import { hardSigmoid, hardTanh, logSigmoid, sigmoid, sigmoidFamily, softsign, tanh } from "../src/index.js";

const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

beforeAll(async () => {
  use(cpuBackend, sigmoidFamily);
  await setBackend("cpu");
});

/** f(x) and f'(x) on the cpu backend. */
function values(spec: ActivationSpec, xs: number[]): { y: number[]; dy: number[] } {
  const act = resolveActivation(spec);
  const x = tensor(xs);
  const y = Array.from(applyActivation(x, act).dataSync());
  const [dx] = grad((t: Tensor) => sum(applyActivation(t, act)))(x);
  return { y, dy: Array.from(dx!.dataSync()) };
}

/**
 * Independent float64 definitions, written from PyTorch's documentation (torch.sigmoid, tanh, Hardsigmoid,
 * Hardtanh, Softsign, LogSigmoid), not from the declarations; at ±∞ what PyTorch's expressions give.
 */
type P = Readonly<Record<string, unknown>>;
const logistic = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const REFERENCES: Readonly<Record<string, (x: number, p: P) => number>> = {
  sigmoid: logistic,
  tanh: (x) => Math.tanh(x),
  hardSigmoid: (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5),
  hardTanh: (x, p) => Math.min(Math.max(x, p.minVal as number), p.maxVal as number),
  // PyTorch's x / (1 + |x|): NaN at ±∞ (∞/∞), as torch gives
  softsign: (x) => x / (1 + Math.abs(x)),
  // log σ(x) = −log(1 + e^−x), written so that neither branch overflows
  logSigmoid: (x) => (x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x))),
};

describe("checkActivation on every sigmoid-family activation", () => {
  const cases = [
    [sigmoid, [{}]],
    [tanh, [{}]],
    [hardSigmoid, [{}]],
    [hardTanh, [{}, { minVal: -2, maxVal: 0.5 }, { minVal: 0, maxVal: 6 }]],
    [softsign, [{}]],
    [logSigmoid, [{}]],
  ] as const;
  it.each(cases.map(([plugin, params]) => ({ name: plugin.name, plugin, params })))("$name passes with default and non-default parameters", async ({ plugin, params }) => {
    const report = await checkActivation(plugin, { backends: ["cpu"], params, numRuns: 50, reference: REFERENCES[plugin.name]! });
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.results.filter((r) => r.check === "reference")).toHaveLength(params.length);
    expect(new Set(report.results.map((r) => r.check).filter((c) => c !== "advice"))).toEqual(
      new Set(["params", "serialization", "reference", "derivative", "range", "monotonic", "smoothAtZero", "forward", "gradient"]),
    );
  });
});

describe("PyTorch reference values", () => {
  it("every sigmoid-family case of activations.json passes on cpu", async () => {
    const json: unknown = JSON.parse(await readFile(REFERENCE, "utf8"));
    const ops = torchOpsFor(sigmoidFamily.activations.map((a) => a.name));
    const results = (await runActivationFile(json, { backends: ["cpu"], file: "activations.json" })).filter((r) => ops.includes(r.op));
    expect(new Set(results.map((r) => r.op))).toEqual(new Set(["sigmoid", "tanh", "hardsigmoid", "hardtanh", "softsign", "logsigmoid"]));
    expect(results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.message}`)).toEqual([]);
  });
});

describe("kink conventions and special values (PyTorch's)", () => {
  it("hardTanh has gradient 0 at both kinks and 1 strictly inside", () => {
    expect(values("hardTanh", [-1, 1, 0, -2, 2]).dy).toEqual([0, 0, 1, 0, 0]);
    expect(values({ name: "hardTanh", minVal: -2, maxVal: 0.5 }, [-2, 0.5, 0, 3]).y).toEqual([-2, 0.5, 0, 0.5]);
  });

  it("hardSigmoid: gradient 1/6 strictly inside (−3, 3), 0 at ±3, outside and at NaN", () => {
    const { y, dy } = values("hardSigmoid", [-3, 3, 0, -4, 4, NaN]);
    expect(y).toEqual([0, 1, 0.5, 0, 1, NaN]);
    expect(dy.slice(0, 5)).toEqual([0, 0, Math.fround(1 / 6), 0, 0]);
    expect(dy[5]).toBe(0); // torch: (x > −3 && x < 3) ? g/6 : 0
  });

  it("sigmoid and logSigmoid are stable at the extremes", () => {
    expect(values("sigmoid", [-1e4, 1e4, -Infinity, Infinity]).y).toEqual([0, 1, 0, 1]);
    expect(values("logSigmoid", [-1e4, 1e4, -Infinity, Infinity]).y).toEqual([-1e4, 0, -Infinity, 0]);
    expect(values("logSigmoid", [0]).dy).toEqual([0.5]);
  });

  it("softsign follows torch's x / (1 + |x|), so ±Infinity gives NaN", () => {
    expect(values("softsign", [1, -3, Infinity, -Infinity]).y).toEqual([0.5, -0.75, NaN, NaN]);
    expect(values("softsign", [1]).dy[0]).toBeCloseTo(0.25, 7);
  });

  it("NaN in gives NaN out for every activation", () => {
    for (const a of sigmoidFamily.activations) expect(values(a.name as ActivationName, [NaN]).y, a.name).toEqual([NaN]);
  });
});

describe("metadata and parameters", () => {
  it("hardTanh's range is [minVal, maxVal] and minVal < maxVal is enforced", () => {
    expect(activationMeta(bindActivation(hardTanh, { minVal: -3, maxVal: 2 })).range).toEqual([-3, 2]);
    expect(activationMeta(bindActivation(hardTanh, { minVal: 0, maxVal: 2 })).smoothAtZero).toBe(false);
    expect(() => bindActivation(hardTanh, { minVal: 1, maxVal: 1 })).toThrow(ArgumentError);
    expect(() => bindActivation(hardTanh, { minVal: 2, maxVal: 1 })).toThrow(/minVal/);
  });
});

describe("typed activation names", () => {
  it("names and parameters type-check only as installed", () => {
    const byName: ActivationSpec = "logSigmoid";
    const withParams: ActivationSpec = { name: "hardTanh", minVal: -2 };
    // @ts-expect-error a misspelled name is not an installed activation
    const misspelled: ActivationSpec = "sigmod";
    // @ts-expect-error hardTanh's bounds are numbers
    const badType: ActivationSpec = { name: "hardTanh", minVal: "-1" };
    expectTypeOf<"hardSigmoid">().toExtend<ActivationName>();
    expect([byName, withParams, misspelled, badType]).toHaveLength(4);
    const model = sequential([{ type: "dense", units: 8, activation: "tanh", inputShape: [4] }, { type: "dense", units: 1, activation: "sigmoid" }]);
    expect(model.layers).toHaveLength(2);
  });
});
