import { readFile } from "node:fs/promises";
import { CpuBackend, cpuBackend } from "@neurite/backend-cpu";
import {
  type ActivationName, type ActivationSpec, ArgumentError, type BackendPlugin, type Tensor, applyActivation, div,
  grad, resolveActivation, sequential, setBackend, sum, tensor, transpose, use,
} from "@neurite/core";
import { beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { checkActivation, runActivationFile, torchOpsFor } from "@neurite/testkit";
import { logSoftmax, softmax, softmaxFamily } from "../src/index.js";

const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

/** The CPU backend without its optional kernels: runs the composed softmax path. */
const plainCpu: BackendPlugin = {
  kind: "backend", name: "cpu-plain", package: "test", version: "0.0.0",
  create: () => {
    const inner = new CpuBackend();
    return new Proxy(inner, {
      get(target, key) {
        if (key === "kernels") return {};
        if (key === "name") return "cpu-plain";
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  },
};
const BACKENDS = ["cpu", "cpu-plain"];

beforeAll(async () => {
  use(cpuBackend, plainCpu, softmaxFamily);
  await setBackend("cpu");
});

function rows(spec: ActivationSpec, data: number[][], backend = "cpu"): Promise<number[][]> {
  return setBackend(backend).then(() => {
    const y = applyActivation(tensor(data), resolveActivation(spec));
    return y.arraySync() as number[][];
  });
}

/**
 * Independent float64 definitions over one slice, from PyTorch's documentation (torch.softmax and log_softmax of
 * x / temperature, the maximum subtracted first), not from the plugins' own `reference`.
 */
type P = Readonly<Record<string, unknown>>;
function shifted(slice: readonly number[], p: P): { z: number[]; logSum: number } {
  const scaled = slice.map((v) => v / (p.temperature as number));
  const m = Math.max(...scaled); // NaN if any entry is NaN; +∞ makes ∞ − ∞ = NaN, as in torch
  const z = scaled.map((v) => v - m);
  return { z, logSum: Math.log(z.reduce((a, v) => a + Math.exp(v), 0)) };
}
const AXIS_REFERENCES: Readonly<Record<string, (slice: readonly number[], p: P) => number[]>> = {
  softmax: (slice, p) => {
    const { z, logSum } = shifted(slice, p);
    return z.map((v) => Math.exp(v - logSum));
  },
  logSoftmax: (slice, p) => {
    const { z, logSum } = shifted(slice, p);
    return z.map((v) => v - logSum);
  },
};

describe("checkActivation on softmax and logSoftmax", () => {
  const params: Record<string, number>[] = [{}, { temperature: 2 }, { axis: 0 }, { axis: 0, temperature: 0.5 }, { axis: -2 }];
  it.each([softmax, logSoftmax].map((plugin) => ({ name: plugin.name, plugin })))("$name passes on the kernel and the composed path", async ({ plugin }) => {
    const report = await checkActivation(plugin, { backends: BACKENDS, params, numRuns: 50, axisReference: AXIS_REFERENCES[plugin.name]! });
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    // both backends, every parameter set: forward, rows identity, and parity between the two paths
    expect(report.results.filter((r) => r.check === "rows")).toHaveLength(params.length * 2);
    expect(report.results.filter((r) => r.check === "parity").length).toBeGreaterThanOrEqual(params.length * 2);
  });
});

describe("PyTorch reference values", () => {
  it("every softmax / log_softmax case of activations.json passes with and without the backend kernels", async () => {
    const json: unknown = JSON.parse(await readFile(REFERENCE, "utf8"));
    const ops = torchOpsFor(softmaxFamily.activations.map((a) => a.name));
    const results = (await runActivationFile(json, { backends: BACKENDS, file: "activations.json" })).filter((r) => ops.includes(r.op));
    expect(new Set(results.map((r) => r.op))).toEqual(new Set(["softmax", "log_softmax"]));
    expect(results).toHaveLength(16);
    expect(results.filter((r) => r.status !== "pass").map((r) => `${r.id} [${r.backend}]: ${r.status} ${r.message}`)).toEqual([]);
  });
});

describe("edge rows (torch's rules) on both paths", () => {
  it.each(BACKENDS)("softmax on %s", async (backend) => {
    const y = await rows("softmax", [[1000, 1001, 1002], [-1e4, 0, 1e4], [-Infinity, 0, 0], [-Infinity, -Infinity, -Infinity], [Infinity, 0, 1], [NaN, 0, 1]], backend);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0]! + e[1]! + 1;
    y[0]!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / s, 7));
    expect(y[1]).toEqual([0, 0, 1]);
    expect(y[2]).toEqual([0, 0.5, 0.5]);
    for (const r of y.slice(3)) expect(r).toEqual([NaN, NaN, NaN]);
  });

  it.each(BACKENDS)("logSoftmax on %s", async (backend) => {
    const y = await rows("logSoftmax", [[1000, 1001, 1002], [-1e4, 0, 1e4], [-Infinity, 0, 0], [Infinity, 0, 1]], backend);
    const lse = Math.log(Math.exp(-2) + Math.exp(-1) + 1);
    y[0]!.forEach((v, i) => expect(v).toBeCloseTo(i - 2 - lse, 5));
    expect(y[1]).toEqual([-2e4, -1e4, 0]);
    expect(y[2]![0]).toBe(-Infinity);
    y[2]!.slice(1).forEach((v) => expect(v).toBeCloseTo(-Math.LN2, 7));
    expect(y[3]).toEqual([NaN, NaN, NaN]);
  });
});

describe("parameters", () => {
  const x = [[0.5, -1, 2, 0], [3, 1, -2, 0.25]];

  it("temperature T computes softmax(x / T), forward and backward", async () => {
    await setBackend("cpu");
    const t = tensor(x);
    const hot = applyActivation(t, resolveActivation({ name: "softmax", temperature: 2 })).dataSync();
    const scaled = applyActivation(div(t, 2), resolveActivation("softmax")).dataSync();
    hot.forEach((v, i) => expect(v).toBeCloseTo(scaled[i]!, 7));
    const g = tensor([[1, -0.5, 2, 0.25], [-1.5, 0.75, -2, 1.25]]);
    for (const name of ["softmax", "logSoftmax"] as const) {
      const [a] = grad((u: Tensor) => sum(applyActivation(u, resolveActivation({ name, temperature: 2 })).mul(g)))(t);
      const [b] = grad((u: Tensor) => sum(applyActivation(div(u, 2), resolveActivation(name)).mul(g)))(t);
      Array.from(a!.dataSync()).forEach((v, i) => expect(v, name).toBeCloseTo(b!.dataSync()[i]!, 6));
    }
  });

  it("axis 0 normalises columns", async () => {
    await setBackend("cpu");
    const byColumn = applyActivation(tensor(x), resolveActivation({ name: "logSoftmax", axis: 0 })).dataSync();
    const viaTranspose = transpose(applyActivation(transpose(tensor(x)), resolveActivation("logSoftmax"))).dataSync();
    byColumn.forEach((v, i) => expect(v).toBeCloseTo(viaTranspose[i]!, 6));
  });

  it("an axis outside the input or a non-positive temperature is an ArgumentError naming it", async () => {
    await setBackend("cpu");
    expect(() => applyActivation(tensor(x), resolveActivation({ name: "softmax", axis: 2 }))).toThrow(ArgumentError);
    expect(() => applyActivation(tensor(x), resolveActivation({ name: "softmax", axis: -3 }))).toThrow(/axis/);
    expect(() => resolveActivation({ name: "softmax", temperature: 0 })).toThrow(/temperature/);
    expect(() => resolveActivation({ name: "logSoftmax", axis: 0.5 })).toThrow(/axis/);
  });
});

describe("typed activation names", () => {
  it("names and parameters type-check only as installed", () => {
    const byName: ActivationSpec = "softmax";
    const withParams: ActivationSpec = { name: "logSoftmax", axis: 0, temperature: 2 };
    // @ts-expect-error a misspelled name is not an installed activation
    const misspelled: ActivationSpec = "softMax";
    // @ts-expect-error temperature is a number
    const badType: ActivationSpec = { name: "softmax", temperature: "hot" };
    expectTypeOf<"logSoftmax">().toExtend<ActivationName>();
    expect([byName, withParams, misspelled, badType]).toHaveLength(4);
    const model = sequential([{ type: "dense", units: 3, activation: "softmax", inputShape: [4] }]);
    expect(model.layers).toHaveLength(1);
  });
});
