import { readFile } from "node:fs/promises";
import { cpuBackend } from "@neurite/backend-cpu";
import {
  type ActivationName, type ActivationSpec, type Tensor, activationMeta, applyActivation, bindActivation, grad,
  resolveActivation, sequential, setBackend, sum, tensor, use,
} from "@neurite/core";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { checkActivation, runActivationFile, torchOpsFor } from "@neurite/testkit";
// float64 erf and sigmoid written independently of core (core's are what the kernels call)
import { erfRef, sigmoidRef } from "@neurite/test-support";
import { GELU_MIN, MISH_MIN, SILU_MIN, gelu, mish, silu, smoothFamily, softplus, swish } from "../src/index.js";

const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

beforeAll(async () => {
  use(cpuBackend, smoothFamily);
  await setBackend("cpu");
});

function values(spec: ActivationSpec, xs: number[]): { y: number[]; dy: number[] } {
  const act = resolveActivation(spec);
  const x = tensor(xs);
  const y = Array.from(applyActivation(x, act).dataSync());
  const [dx] = grad((t: Tensor) => sum(applyActivation(t, act)))(x);
  return { y, dy: Array.from(dx!.dataSync()) };
}

/**
 * Independent float64 definitions, written from PyTorch's documentation (torch.nn.GELU with approximate "none"
 * and "tanh", SiLU, Mish, Softplus with beta and threshold) and Swish's paper (x·σ(βx)), not from the
 * declarations. At −∞ they give what PyTorch's expressions give (NaN from −∞·0 in gelu, silu, mish).
 */
type P = Readonly<Record<string, unknown>>;
const softplus1 = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const REFERENCES: Readonly<Record<string, (x: number, p: P) => number>> = {
  gelu: (x, p) =>
    p.approximate === "tanh"
      ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
      : 0.5 * x * (1 + erfRef(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
  swish: (x, p) => x * sigmoidRef((p.beta as number) * x),
  mish: (x) => x * Math.tanh(softplus1(x)),
  softplus: (x, p) => {
    const beta = p.beta as number;
    return beta * x > (p.threshold as number) ? x : softplus1(beta * x) / beta;
  },
};

describe("checkActivation on every smooth-family activation", () => {
  const cases = [
    [gelu, [{}, { approximate: "tanh" }]],
    [silu, [{}]],
    [swish, [{}, { beta: 0 }, { beta: 2.5 }]],
    [mish, [{}]],
    // threshold 5 makes the switch to x a visible step (not monotonic); the checks skip it as a kink
    [softplus, [{}, { beta: 2 }, { beta: 1.5, threshold: 5 }]],
  ] as const;
  it.each(cases.map(([plugin, params]) => ({ name: plugin.name, plugin, params })))("$name passes with default and non-default parameters", async ({ plugin, params }) => {
    const report = await checkActivation(plugin, { backends: ["cpu"], params, numRuns: 50, reference: REFERENCES[plugin.name]! });
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.results.filter((r) => r.check === "forward").length).toBe(params.length);
    expect(report.results.filter((r) => r.check === "reference").length).toBe(params.length);
  });
});

describe("PyTorch reference values", () => {
  it("every smooth-family case of activations.json passes on cpu", async () => {
    const json: unknown = JSON.parse(await readFile(REFERENCE, "utf8"));
    const ops = torchOpsFor(smoothFamily.activations.map((a) => a.name));
    const results = (await runActivationFile(json, { backends: ["cpu"], file: "activations.json" })).filter((r) => ops.includes(r.op));
    expect(new Set(results.map((r) => r.op))).toEqual(new Set(["gelu", "silu", "mish", "softplus"]));
    expect(results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.message}`)).toEqual([]);
  });
});

describe("formulas and special values", () => {
  it("gelu is x·Φ(x) with erf, or the tanh approximation", () => {
    const xs = [-3, -0.5, 0, 1.5];
    const exact = xs.map((x) => 0.5 * x * (1 + erfRef(x / Math.SQRT2)));
    values("gelu", xs).y.forEach((v, i) => expect(v).toBeCloseTo(exact[i]!, 6));
    const k = Math.sqrt(2 / Math.PI);
    const approx = xs.map((x) => 0.5 * x * (1 + Math.tanh(k * (x + 0.044715 * x ** 3))));
    values({ name: "gelu", approximate: "tanh" }, xs).y.forEach((v, i) => expect(v).toBeCloseTo(approx[i]!, 6));
  });

  it("swish with beta is x·σ(beta·x); beta = 1 is silu", () => {
    const xs = [-2, 0.5, 3];
    values({ name: "swish", beta: 2 }, xs).y.forEach((v, i) => expect(v).toBeCloseTo(xs[i]! * sigmoidRef(2 * xs[i]!), 6));
    expect(values("swish", xs).y).toEqual(values("silu", xs).y);
  });

  it("softplus is x above the threshold and never overflows", () => {
    expect(values("softplus", [21, 100, 3.4e38, -1e4]).y).toEqual([21, 100, Math.fround(3.4e38), 0]);
    expect(values({ name: "softplus", beta: 2, threshold: 10 }, [6]).y).toEqual([6]);
    expect(values("softplus", [0]).dy).toEqual([0.5]);
    expect(values("softplus", [50]).dy).toEqual([1]);
  });

  it("mish is finite at the extremes of float32 and has derivative 1 far right", () => {
    expect(values("mish", [3.4e38, -1e4]).y.map((v) => v + 0)).toEqual([Math.fround(3.4e38), 0]);
    expect(values("mish", [30]).dy).toEqual([1]);
  });

  it("NaN in gives NaN out for every activation", () => {
    for (const a of smoothFamily.activations) expect(values(a.name as ActivationName, [NaN]).y, a.name).toEqual([NaN]);
  });

  it("declared minima are the functions' minima", () => {
    const grid = Array.from({ length: 4001 }, (_, i) => -4 + i * 0.001);
    const min = (name: ActivationName): number => Math.min(...values(name, grid).y);
    expect(min("gelu")).toBeCloseTo(GELU_MIN, 6);
    expect(min("silu")).toBeCloseTo(SILU_MIN, 6);
    expect(min("mish")).toBeCloseTo(MISH_MIN, 6);
    expect(activationMeta(bindActivation(swish, { beta: 2 })).range[0]).toBeCloseTo(SILU_MIN / 2, 12);
  });
});

describe("typed activation names", () => {
  it("names and parameters type-check only as installed", () => {
    const byName: ActivationSpec = "mish";
    const withParams: ActivationSpec = { name: "gelu", approximate: "tanh" };
    // @ts-expect-error gelu's approximate is "none" or "tanh"
    const badChoice: ActivationSpec = { name: "gelu", approximate: "erf" };
    // @ts-expect-error a misspelled name is not an installed activation
    const misspelled: ActivationSpec = "softpuls";
    expectTypeOf<"swish">().toExtend<ActivationName>();
    expect([byName, withParams, badChoice, misspelled]).toHaveLength(4);
    const model = sequential([{ type: "dense", units: 8, activation: { name: "softplus", beta: 2 }, inputShape: [4] }]);
    expect(model.layers).toHaveLength(1);
  });
});
