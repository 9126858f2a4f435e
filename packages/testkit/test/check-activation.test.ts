import { CpuBackend, cpuBackend } from "@neurite/backend-cpu";
import {
  type BackendPlugin, type Tensor, adam, defineActivation, div, exp, max, memory, mul, sequential, setBackend, sub, sum, tensor, use,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { checkActivation } from "../src/check/check-activation.js";

/** Bent identity, declared in a few lines: the README's example of a custom activation. */
const bentIdentity = defineActivation({
  name: "bentIdentity", family: "custom", package: "testkit-test", version: "1.0.0",
  description: "(sqrt(x² + 1) − 1)/2 + x",
  params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x) => x.square().add(1).sqrt().sub(1).div(2).add(x),
});

/** The CPU backend without optional kernels, as a second backend for parity checks. */
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

beforeAll(async () => {
  use(cpuBackend, plainCpu);
  await setBackend("cpu");
});

describe("checkActivation", () => {
  it("passes a custom activation declared in a few lines, on two backends, and reports every check", async () => {
    const report = await checkActivation(bentIdentity, { backends: ["cpu", "cpu-plain"], onAdvice: () => {} });
    expect(report.backends).toEqual(["cpu", "cpu-plain"]);
    expect(new Set(report.results.map((r) => r.check))).toEqual(
      // advice: x² overflows float32 at ±3.4e38 (float32 step by step gives Infinity / NaN there)
      new Set(["params", "serialization", "derivative", "advice", "range", "monotonic", "smoothAtZero", "forward", "gradient", "parity"]),
    );
    expect(report.results.every((r) => r.ok)).toBe(true);
  });

  it("leaves the previously active backend active and the registry as it was", async () => {
    await setBackend("cpu-plain");
    await checkActivation(bentIdentity, { backends: ["cpu"], numRuns: 10 });
    expect(memory().backend?.name).toBe("cpu-plain");
    await setBackend("cpu");
    const { activations } = await import("@neurite/core");
    expect(activations.has("bentIdentity")).toBe(false);
  });

  it("finds a wrong hand-written derivative", async () => {
    const wrong = defineActivation({
      ...bentIdentity, name: "wrongDerivative",
      derivative: (x) => x.div(x.square().add(1).sqrt()).div(2).add(1.01), // should be + 1
    });
    const err = await checkActivation(wrong, { backends: ["cpu"], numRuns: 10 }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    // kernels run the declared derivative, so only the comparison with finite differences can see it is wrong
    expect((err as Error).message).toMatch(/1 of \d+ checks failed\n {2}✗ derivative: df against central differences/);
    expect((err as Error).message).toMatch(/at x=-8 expected 0\.50386106, got 0\.51386106/);
  });

  it("finds a declared range, monotonicity or smoothness that does not hold, with values", async () => {
    const square = defineActivation({
      name: "badMeta", family: "custom", package: "testkit-test", version: "1.0.0", description: "x²", params: {},
      meta: { range: [0, 10], monotonic: true, smoothAtZero: false },
      formula: (x) => x.square(),
    });
    const err = (await checkActivation(square, { backends: ["cpu"], numRuns: 20 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ range.*outside the declared range \[0, 10\]/);
    expect(err.message).toMatch(/✗ monotonic.*declared monotonic, but f\(/);
    expect(err.message).toMatch(/✗ smoothAtZero.*agree \(no kink\)/);
  });

  it("finds a parameter whose invalid value is accepted", async () => {
    // the range check in validate throws a plain Error instead of an ArgumentError naming the parameter
    const sloppy = defineActivation<{ k: number }>({
      name: "sloppy", family: "custom", package: "testkit-test", version: "1.0.0", description: "k·x",
      params: { k: { default: 1, min: 0 } },
      meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
      validate: (p) => {
        if (p.k > 100) throw new Error("too big");
      },
      formula: (x, p) => x.mul(p.k),
    });
    const report = await checkActivation(sloppy, { backends: ["cpu"], params: [{}, { k: 3 }], numRuns: 10 });
    expect(report.results.find((r) => r.check === "params")?.ok).toBe(true);
    const err = (await checkActivation(sloppy, { backends: ["cpu"], params: [{ k: 1000 }], numRuns: 10 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/parameter set \{"k":1000\} was rejected: Error: too big/);
  });

  it("finds an axis activation whose backward is wrong", async () => {
    // softmax over the last axis from core's tensor ops (testkit depends on no activation family)
    const softmaxLast = defineActivation<{ axis: number }>({
      type: "axis", name: "testSoftmax", family: "custom", package: "testkit-test", version: "1.0.0", description: "softmax over the last axis",
      params: { axis: { default: -1, integer: true } },
      meta: { range: [0, 1], monotonic: false, smoothAtZero: true },
      forward: (x) => {
        const e = exp(sub(x, max(x, -1, true)));
        return div(e, sum(e, -1, true));
      },
      backward: (g, y) => mul(y, sub(g, sum(mul(g, y), -1, true))),
      reference: (slice) => {
        const m = Math.max(...slice);
        const e = slice.map((v) => Math.exp(v - m));
        const total = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / total);
      },
    });
    await checkActivation(softmaxLast, { backends: ["cpu"], rowIdentity: "sumToOne", numRuns: 10 });
    // an independent axisReference is the judge when given: a uniform "softmax" fails the forward check
    const uniform = (slice: readonly number[]): number[] => slice.map(() => 1 / slice.length);
    await expect(checkActivation(softmaxLast, { backends: ["cpu"], numRuns: 10, axisReference: uniform })).rejects.toThrow(/✗ forward on cpu/);
    const halfGrad = defineActivation<{ axis: number }>({
      ...softmaxLast, name: "halfGradSoftmax",
      backward: (g: Tensor, y: Tensor, x: Tensor, p) => mul(softmaxLast.backward(g, y, x, p), 0.5),
    });
    const err = (await checkActivation(halfGrad, { backends: ["cpu"], rowIdentity: "sumToOne", numRuns: 10 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ gradient on cpu/);
    expect(err.message).not.toMatch(/✗ forward/);
  });

  it("checks a trainable parameter's gradient", async () => {
    const scaled = defineActivation<{ a: number }>({
      name: "scaledTanh", family: "custom", package: "testkit-test", version: "1.0.0", description: "a·tanh(x)",
      params: { a: { default: 1.5, trainable: true, perChannel: true } },
      meta: (p) => ({ range: [-Math.abs(p.a), Math.abs(p.a)], monotonic: p.a >= 0, smoothAtZero: true }),
      formula: (x, p) => x.tanh().mul(p.a),
    });
    const report = await checkActivation(scaled, { backends: ["cpu"], numRuns: 20 });
    const trainable = report.results.filter((r) => r.check === "trainable");
    expect(trainable).toHaveLength(1);
    expect(trainable[0]!.message).toMatch(/3 channels/);
  });
});


describe("a custom activation in a model", () => {
  it("bent identity trains a tiny dense network with no change to the core", async () => {
    await setBackend("cpu");
    use(bentIdentity);
    // y = sin(x0) + x1/2 on a fixed grid
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (let i = 0; i < 32; i++) {
      const a = -2 + (4 * i) / 31;
      const b = Math.cos(3 * i);
      xs.push([a, b]);
      ys.push([Math.sin(a) + b / 2]);
    }
    const x = tensor(xs);
    const y = tensor(ys);
    const model = sequential([
      { type: "dense", units: 16, activation: bentIdentity, inputShape: [2] },
      { type: "dense", units: 1 },
    ], { seed: 7 });
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "mse" });
    const mse = (): number => {
      const d = sub(model.predict(x), y);
      return sum(mul(d, d)).item() / 32;
    };
    const before = mse();
    await model.fit(x, y, { epochs: 150, batchSize: 32 });
    const after = mse();
    expect(after).toBeLessThan(before / 10);
  });
});
