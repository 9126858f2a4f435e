/**
 * The float32 contract of `checkActivation` (in @neurite/testkit) exercised on both first-party backends: it lives
 * here, beside the other cross-package tests, because testkit's own tests may not depend on backend-wasm (whose
 * tests use the activation families, whose tests use testkit).
 */
import { CpuBackend } from "@neurite/backend-cpu";
import { type BackendPlugin, defineActivation, use } from "@neurite/core";
import { checkActivation } from "@neurite/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { registerBackends } from "../src/backends.js";

registerBackends();

/** Bent identity, declared in a few lines: the README's example of a custom activation. */
const bentIdentity = defineActivation({
  name: "bentIdentity", family: "custom", package: "testkit-test", version: "1.0.0",
  description: "(sqrt(x² + 1) − 1)/2 + x",
  params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x) => x.square().add(1).sqrt().sub(1).div(2).add(x),
});

/** The CPU backend with every value it returns 1e-5 (relative) off: a backend bug, whatever the formula. */
const sloppyCpu: BackendPlugin = {
  kind: "backend", name: "cpu-sloppy", package: "test", version: "0.0.0",
  create: () => {
    const inner = new CpuBackend();
    return new Proxy(inner, {
      get(target, key) {
        if (key === "name") return "cpu-sloppy";
        if (key === "read") return (id: Parameters<CpuBackend["read"]>[0]) => target.read(id).map((v) => v * (1 + 1e-5));
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  },
};

/** Squareplus (So, 2021) as the paper writes it: cancels in float32 for large negative x. */
const squareplus = defineActivation<{ b: number }>({
  name: "squareplus", family: "custom", package: "testkit-test", version: "1.0.0", description: "(x + sqrt(x² + b)) / 2",
  params: { b: { default: 4, min: 0 } },
  meta: { range: [0, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x, p) => x.add(x.square().add(p.b).sqrt()).div(2),
});
const squareplusRef = (x: number, p: { b?: unknown }): number => (x + Math.sqrt(x * x + (p.b as number))) / 2;
const bentRef = (x: number): number => (Math.sqrt(x * x + 1) - 1) / 2 + x;

describe("the float32 contract, formula advice and the independent reference", () => {
  beforeAll(() => use(sloppyCpu));

  it("the README's bentIdentity passes on cpu and wasm; float32's overflow at ±3.4e38 is advice", async () => {
    const advice: string[] = [];
    const report = await checkActivation(bentIdentity, { backends: ["cpu", "wasm"], reference: bentRef, onAdvice: (a) => advice.push(a) });
    expect(report.backends).toEqual(["cpu", "wasm"]);
    expect(report.results.find((r) => r.check === "reference")!.ok).toBe(true);
    expect(advice.join("\n")).toMatch(/"bentIdentity", f\(x\): float32 step by step loses accuracy against float64 at 1 of \d+ inputs, e\.g\. x=-3\.4e\+38: float32 steps give Infinity, float64 -1\.7e\+38/);
    expect(advice.join("\n")).toMatch(/overflows float32 .*hypot/);
  });

  it("fails a backend that is off, however the formula is written, calling it a backend bug", async () => {
    const err = (await checkActivation(bentIdentity, { backends: ["cpu-sloppy"], onAdvice: () => {}, numRuns: 10 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ forward on cpu-sloppy: f\(x\) against the float32 contract: \d+ of \d+ values off \(a backend bug: farther from float64 than float32 step by step\)/);
  });

  it("a textbook squareplus passes on cpu and wasm with cancellation advice; strict makes the advice fail", async () => {
    const advice: string[] = [];
    const options = { backends: ["cpu", "wasm"], params: [{}, { b: 1 }] as Record<string, number>[], reference: squareplusRef, onAdvice: (a: string) => advice.push(a) };
    await checkActivation(squareplus, options);
    expect(advice.join("\n")).toMatch(/"squareplus" with \{"b":4\}, f\(x\): .*x=-10000: float32 steps give 0, float64 0\.000099999999/);
    expect(advice.join("\n")).toMatch(/nearly equal terms cancel: use log1p.*conjugate form/);
    const err = (await checkActivation(squareplus, { ...options, strict: true }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ advice with \{"b":4\}: "squareplus"/);
    expect(err.message).not.toMatch(/✗ (forward|gradient|parity)/);
  });

  it("the conjugate form of squareplus needs no advice in f", async () => {
    const stable = defineActivation<{ b: number }>({
      ...squareplus, name: "squareplusStable",
      // x ≥ 0: x/2 + √(x² + b)/2; x < 0: b / (2(√(x² + b) − x)), no cancellation; hypot keeps x² from overflowing
      formula: (x, p) => {
        const r = x.hypot(p.b.sqrt());
        return x.ge(0).where(x.div(2).add(r.div(2)), p.b.div(r.sub(x).mul(2)));
      },
    });
    // the same function in float64, defined at x = −∞ too (the limit 0)
    const limitRef = (x: number, p: { b?: unknown }): number => (x >= 0 ? squareplusRef(x, p) : (p.b as number) / (2 * (Math.sqrt(x * x + (p.b as number)) - x)));
    const advice: string[] = [];
    await checkActivation(stable, { backends: ["cpu", "wasm"], reference: limitRef, onAdvice: (a) => advice.push(a) });
    expect(advice.filter((a) => a.includes("f(x):"))).toEqual([]);
  });

  it("gives no advice where the exact value itself overflows float32 (no formula could do better)", async () => {
    const scaled = defineActivation({
      name: "scaled105", family: "custom", package: "testkit-test", version: "1.0.0", description: "1.05·x", params: {},
      meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
      formula: (x) => x.mul(1.05),
    });
    const report = await checkActivation(scaled, { backends: ["cpu", "wasm"], reference: (x) => 1.05 * x, onAdvice: () => {} });
    expect(report.advice).toEqual([]);
  });

  it("catches a wrong formula with a reference, which its own float64 evaluation cannot", async () => {
    const wrong = defineActivation({ ...bentIdentity, name: "bentWrong", formula: (x) => x.square().add(1).sqrt().sub(1).div(2.02).add(x) });
    await checkActivation(wrong, { backends: ["cpu"], onAdvice: () => {}, numRuns: 10 }); // self-consistent: passes
    const err = (await checkActivation(wrong, { backends: ["cpu"], reference: bentRef, onAdvice: () => {}, numRuns: 10 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ reference: the formula in float64 against the independent reference: \d+ of \d+ values off; at x=-8 reference -4\.4688711, formula -4\.5038328/);
  });

  it("catches a wrong derivative with derivativeReference", async () => {
    const wrong = defineActivation({ ...bentIdentity, name: "bentWrongDerivative", derivative: (x) => x.div(x.square().add(1).sqrt()).div(2).add(1.01) });
    const dRef = (x: number): number => x / (2 * Math.sqrt(x * x + 1)) + 1;
    const err = (await checkActivation(wrong, { backends: ["cpu"], derivativeReference: dRef, onAdvice: () => {}, numRuns: 10 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/✗ reference: the formula's derivative in float64 against the independent derivativeReference/);
  });
});
