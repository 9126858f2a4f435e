/**
 * A hand-written kernel is an optimisation, never a requirement: a plugin that ships one for a backend gets it
 * used there (forward and backward), the same results as its declared formula, and every other backend runs
 * the declared formula.
 */
import type { CpuBuffer } from "@neurite/backend-cpu";
import { type ActivationKernel, applyActivation, bindActivation, defineActivation, grad, setBackend, sum, tensor } from "@neurite/core";
import { describe, expect, test } from "vitest";
import { registerBackends } from "../src/backends.js";

registerBackends();

const calls = { forward: 0, backward: 0 };
/** softsign x/(1+|x|) by hand for the cpu backend, whose buffers are Float32Arrays. */
const cpuKernel: ActivationKernel = {
  forward(_backend, { x, out, size }) {
    const [xs, ys] = [(x as CpuBuffer).data, (out as CpuBuffer).data];
    for (let i = 0; i < size; i++) ys[i] = xs[i]! / (1 + Math.abs(xs[i]!));
    calls.forward++;
  },
  backward(_backend, { x, g, out, size }) {
    const [xs, gs, os] = [(x as CpuBuffer).data, (g as CpuBuffer).data, (out as CpuBuffer).data];
    for (let i = 0; i < size; i++) os[i] = gs[i]! / (1 + Math.abs(xs[i]!)) ** 2;
    calls.backward++;
  },
};
const declared = defineActivation({
  name: "handSoftsign", family: "test", package: "test-suite", version: "0.0.0", description: "x / (1 + |x|)", params: {},
  meta: { range: [-1, 1], monotonic: true, smoothAtZero: true },
  formula: (x) => x.div(x.abs().add(1)),
});
const withKernel = { ...declared, kernels: { cpu: cpuKernel } };

function run(plugin: typeof declared): { y: number[]; dx: number[] } {
  const act = bindActivation(plugin);
  const x = tensor([-3, -0.5, 0, 0.25, 2, 40]);
  const y = Array.from(applyActivation(x, act).dataSync());
  const [dx] = grad((t: typeof x) => sum(applyActivation(t, act)))(x);
  return { y, dx: Array.from(dx!.dataSync()) };
}

describe("hand-written activation kernels", () => {
  test("the cpu backend uses the plugin's kernel, forward and backward, with the formula's results", async () => {
    await setBackend("cpu");
    const reference = run(declared);
    calls.forward = calls.backward = 0;
    const fast = run(withKernel);
    expect(calls).toEqual({ forward: 2, backward: 1 });
    fast.y.forEach((v, i) => expect(v).toBeCloseTo(reference.y[i]!, 6));
    fast.dx.forEach((v, i) => expect(v).toBeCloseTo(reference.dx[i]!, 6));
  });

  test("a backend without a kernel for the plugin runs its declared formula", async () => {
    await setBackend("wasm");
    calls.forward = calls.backward = 0;
    const onWasm = run(withKernel);
    await setBackend("cpu");
    const reference = run(declared);
    expect(calls).toEqual({ forward: 0, backward: 0 });
    onWasm.y.forEach((v, i) => expect(v).toBeCloseTo(reference.y[i]!, 6));
    onWasm.dx.forEach((v, i) => expect(v).toBeCloseTo(reference.dx[i]!, 6));
  });
});
