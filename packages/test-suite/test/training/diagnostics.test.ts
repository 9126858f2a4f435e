/**
 * The diagnostics the activation tutorial relies on: dead ReLU units, saturated sigmoids, and vanishing
 * gradients in a deep sigmoid network compared with a ReLU one.
 */
import {
  type ActivationSpec, type Sequential, adam, diagnose, diagnosticsCallback, scope, sequential, tensor, uniform,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

beforeAll(setupCpu);

const batch = () => ({ x: uniform([32, 4], { min: -1, max: 1, seed: 1 }), y: uniform([32, 1], { min: -1, max: 1, seed: 2 }) });

function twoLayer(activation: ActivationSpec): Sequential {
  return sequential([
    { type: "dense", units: 8, activation, inputShape: [4] },
    { type: "dense", units: 1 },
  ], { seed: 3 });
}

/** Sets a weight to f(its current values), in place. */
function setWeight(model: Sequential, name: string, f: (v: Float32Array) => Float32Array): void {
  const w = model.weights.find((v) => v.name === name)!;
  scope(() => w.assign(tensor(f(Float32Array.from(w.dataSync())), w.shape)));
}

describe("diagnose", () => {
  it("reports every unit of a ReLU layer with a very negative bias as dead (and no gradient through it)", () => {
    const { x, y } = batch();
    const model = twoLayer("relu");
    const healthy = diagnose(model, x, y, "mse");
    expect(healthy[0]!.deadFraction).toBeLessThan(0.5);
    expect(healthy[0]!.gradNorm).toBeGreaterThan(0);
    setWeight(model, "dense1/bias", (v) => v.map(() => -100));
    const dead = diagnose(model, x, y, "mse");
    expect(dead[0]).toMatchObject({ layer: "dense1", activation: "relu", deadFraction: 1, gradNorm: 0, saturatedFraction: 0 });
    model.dispose();
  });

  it("reports no dead units for leakyRelu with the same bias", () => {
    const { x, y } = batch();
    const model = twoLayer("leakyRelu");
    setWeight(model, "dense1/bias", (v) => v.map(() => -100));
    const d = diagnose(model, x, y, "mse");
    expect(d[0]).toMatchObject({ activation: "leakyRelu", deadFraction: 0 });
    expect(d[0]!.gradNorm).toBeGreaterThan(0);
    model.dispose();
  });

  it("reports sigmoid outputs as saturated when the weights are huge, and not when they are small", () => {
    const { x, y } = batch();
    const model = twoLayer("sigmoid");
    const normal = diagnose(model, x, y, "mse")[0]!;
    expect(normal.saturatedFraction).toBeLessThan(0.05);
    setWeight(model, "dense1/kernel", (v) => v.map((w) => w * 100));
    const huge = diagnose(model, x, y, "mse")[0]!;
    expect(huge.saturatedFraction).toBeGreaterThan(0.85);
    // saturated units pass almost no gradient back to their weights
    expect(huge.gradNorm).toBeLessThan(0.1 * normal.gradNorm);
    model.dispose();
  });

  it("shows the vanishing gradient: a 10-layer sigmoid net's first layer gets far less than a ReLU net's", () => {
    const x = uniform([32, 8], { min: -1, max: 1, seed: 5 });
    const y = uniform([32, 1], { min: -1, max: 1, seed: 6 });
    const deep = (activation: ActivationSpec) =>
      sequential([
        { type: "dense", units: 16, activation, inputShape: [8], kernelInitializer: "heNormal" },
        ...Array.from({ length: 8 }, () => ({ type: "dense" as const, units: 16, activation, kernelInitializer: "heNormal" as const })),
        { type: "dense", units: 1, kernelInitializer: "heNormal" },
      ], { seed: 9 });
    const sig = deep("sigmoid");
    const relu = deep("relu");
    const dSig = diagnose(sig, x, y, "mse");
    const dRelu = diagnose(relu, x, y, "mse");
    expect(dSig).toHaveLength(10);
    expect(dSig[0]!.gradNorm).toBeLessThan(1e-3 * dRelu[0]!.gradNorm);
    // and it shrinks layer by layer towards the input
    expect(dSig[0]!.gradNorm).toBeLessThan(dSig[8]!.gradNorm);
    sig.dispose();
    relu.dispose();
  });

  it("runs from fit through diagnosticsCallback every `every` epochs", async () => {
    const { x, y } = batch();
    const model = twoLayer("tanh");
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "mse" });
    const seen: number[] = [];
    await model.fit(x, y, {
      epochs: 6, batchSize: 32,
      callbacks: [diagnosticsCallback(model, [x, y], "mse", (epoch, d) => {
        expect(d.map((l) => l.layer)).toEqual(["dense1", "dense2"]);
        seen.push(epoch);
      }, 2)],
    });
    expect(seen).toEqual([0, 2, 4]);
    model.dispose();
  });
});
