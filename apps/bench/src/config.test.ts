import { describe, expect, it } from "vitest";
import { ACTIVATIONS, ACTIVATION_SIZES, MATMUL_CASES, MODES, SOFTMAX_SHAPES, operandShapes } from "./config.js";

describe("the measured cases", () => {
  it("cover the activations, sizes and softmax shapes of the issue", () => {
    expect([...ACTIVATIONS]).toEqual(["sigmoid", "tanh", "relu", "leakyRelu", "elu", "gelu"]);
    expect([...ACTIVATION_SIZES]).toEqual([65536, 4194304]);
    expect(SOFTMAX_SHAPES.map((s) => [...s])).toEqual([[4096, 1024], [64, 10]]);
  });
  it("the three products of a Dense(784 → 256) step at batch 128 have the operands of that step", () => {
    const byName = Object.fromEntries(MATMUL_CASES.map((c) => [c.name, operandShapes(c)]));
    // x [128, 784] · W [784, 256]
    expect(byName["dense x·W"]).toEqual({ a: [128, 784], b: [784, 256] });
    // xᵀ · dZ: x stored [128, 784], dZ [128, 256] → dW [784, 256]
    expect(byName["dense xᵀ·dZ"]).toEqual({ a: [128, 784], b: [128, 256] });
    // dZ · Wᵀ: dZ [128, 256], W stored [784, 256] → dx [128, 784]
    expect(byName["dense dZ·Wᵀ"]).toEqual({ a: [128, 256], b: [784, 256] });
    expect(MATMUL_CASES.filter((c) => c.name.startsWith("square")).map((c) => c.m)).toEqual([128, 256, 512, 1024]);
  });
  it("--quick does fewer repetitions than the full run", () => {
    expect(MODES.quick.policy.minReps).toBeLessThan(MODES.full.policy.minReps);
    expect(MODES.quick.policy.budgetMs).toBeLessThan(MODES.full.policy.budgetMs);
    expect(MODES.full.growthSteps).toBe(1000);
    expect(MODES.full.train).toEqual({ kind: "fit", epochs: 4 });
  });
});
