import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { wasmBackend } from "@neurite/backend-wasm";
import { FormulaError, loadModel, memory, setBackend, tensor, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type PlaygroundConfig } from "../src/config.js";
import { generate, gridPoints, splitData } from "../src/data.js";
import { activationCurve, checkFormula } from "../src/plot.js";
import { PRESETS } from "../src/presets.js";
import { Trainer } from "../src/trainer.js";

beforeAll(async () => {
  use(wasmBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
  await setBackend("wasm");
});

const preset = (id: string) => PRESETS.find((p) => p.id === id)!.config;
const trainerFor = (config: PlaygroundConfig) =>
  new Trainer(config, splitData(generate(config.dataset, config.samples, config.noise, config.seed), config.edits, config.trainFraction, config.seed));

/** Test accuracy after every 100 steps, up to `steps`. */
function accuracies(config: PlaygroundConfig, steps: number): number[] {
  const t = trainerFor(config);
  const out: number[] = [];
  try {
    while (t.steps < steps) {
      t.step(100);
      out.push(t.evaluate().testAccuracy);
    }
  } finally {
    t.dispose();
  }
  return out;
}

describe("training on the spirals (the e2e's claim, checked in Node on the same backend)", () => {
  it("ReLU reaches ≥ 95 % test accuracy within 3000 steps", () => {
    const acc = accuracies(preset("spiral-relu"), 3000);
    expect(Math.max(...acc)).toBeGreaterThanOrEqual(0.95);
  });

  it("identity stays near chance (a linear boundary), ≤ 70 % throughout", () => {
    const acc = accuracies(preset("spiral-identity"), 3000);
    expect(Math.max(...acc)).toBeLessThanOrEqual(0.7);
    expect(Math.min(...acc)).toBeGreaterThanOrEqual(0.3);
  });
});

describe("the presets show what they say", () => {
  it("ReLU at learning rate 3 kills a whole layer and stays at chance; LeakyReLU at the same rate learns the circle", () => {
    const run = (id: string) => {
      const t = trainerFor(preset(id));
      try {
        t.step(500);
        return { dead: t.diagnostics().map((d) => d.deadFraction), accuracy: t.evaluate().testAccuracy };
      } finally {
        t.dispose();
      }
    };
    const relu = run("relu-high-lr");
    const leaky = run("leaky-high-lr");
    expect(Math.max(...relu.dead)).toBe(1);
    expect(relu.accuracy).toBeLessThan(0.6);
    expect(Math.max(...leaky.dead)).toBe(0);
    expect(leaky.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it("sigmoid × 10: the gradient norm shrinks toward the input by orders of magnitude", () => {
    const t = trainerFor(preset("sigmoid-deep"));
    try {
      t.step(50);
      const norms = t.diagnostics().map((d) => d.gradNorm);
      expect(norms).toHaveLength(11);
      expect(norms[0]! * 1000).toBeLessThan(norms[9]!);
    } finally {
      t.dispose();
    }
  });
});

describe("typed formulas", () => {
  it("x * sigmoid(1.702 * x) plots as its float64 definition, f′ as the finite difference", () => {
    const curve = activationCurve({ units: 8, activation: "formula", params: {}, formula: "x * sigmoid(1.702 * x)" });
    if (typeof curve === "string") throw new Error(curve);
    curve.xs.forEach((x, i) => {
      expect(curve.f[i]).toBeCloseTo(x / (1 + Math.exp(-1.702 * x)), 12);
      const h = 1e-5;
      const fd = ((x + h) / (1 + Math.exp(-1.702 * (x + h))) - (x - h) / (1 + Math.exp(-1.702 * (x - h)))) / (2 * h);
      expect(curve.df[i]).toBeCloseTo(fd, 7);
    });
  });

  it("a parameter changes the plotted curve: elu α = 3 is 3(e^x − 1) for x < 0", () => {
    const curve = activationCurve({ units: 8, activation: "elu", params: { alpha: 3 }, formula: "" });
    if (typeof curve === "string") throw new Error(curve);
    curve.xs.forEach((x, i) => expect(curve.f[i]).toBeCloseTo(x > 0 ? x : 3 * Math.expm1(x), 12));
  });

  it("softmax has no scalar curve and says why", () => {
    expect(activationCurve({ units: 8, activation: "softmax", params: {}, formula: "" })).toMatch(/no f\(x\)/);
  });

  it("a malformed formula is a FormulaError with its position", () => {
    const e = checkFormula("x * sigmoid(1.702 * ");
    expect(e).toBeInstanceOf(FormulaError);
    expect((e as FormulaError).position).toBe(20);
    expect(e!.message).toContain("^");
    expect(checkFormula("x * sigmoid(1.702 * x)")).toBeUndefined();
    expect(checkFormula("y + 1")).toBeInstanceOf(FormulaError);
  });

  it("a network of formula activations trains (loss at least halves in 1500 steps)", () => {
    const base = preset("spiral-relu");
    const t = trainerFor({ ...base, layers: base.layers.map((l) => ({ ...l, activation: "formula", formula: "x * sigmoid(1.702 * x)" })) });
    try {
      const before = t.evaluate().trainLoss;
      t.step(1500);
      expect(t.evaluate().trainLoss).toBeLessThan(before * 0.5);
    } finally {
      t.dispose();
    }
  });
});

describe("the trainer", () => {
  it("predicts the heat map in one batch, in [0, 1], with the same values as predicting point by point", () => {
    const t = trainerFor({ ...DEFAULT_CONFIG, output: "softmax" });
    try {
      t.step(50);
      const grid = gridPoints(100);
      const p = t.predictGrid(grid);
      expect(p).toHaveLength(10000);
      expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
      for (const k of [0, 4321, 9999]) {
        const x = tensor(grid.slice(2 * k, 2 * k + 2), [1, 2]);
        expect(t.positive(x)[0]).toBeCloseTo(p[k]!, 5);
        x.dispose();
      }
    } finally {
      t.dispose();
    }
  });

  it("reports a gradient norm and dead fraction per layer (output included)", () => {
    const t = trainerFor(preset("relu-high-lr"));
    try {
      t.step(200);
      const d = t.diagnostics();
      expect(d).toHaveLength(4);
      for (const l of d) {
        expect(l.gradNorm).toBeGreaterThanOrEqual(0);
        expect(l.deadFraction).toBeGreaterThanOrEqual(0);
        expect(l.deadFraction).toBeLessThanOrEqual(1);
      }
    } finally {
      t.dispose();
    }
  });

  it("the exported model file loads back to the same predictions", () => {
    const t = trainerFor(preset("spiral-relu"));
    try {
      t.step(100);
      const { json, weights } = t.save();
      const loaded = loadModel({ json, weights });
      const x = tensor([1, 2, -3, 0.5], [2, 2]);
      const a = t.model.predict(x).dataSync();
      const b = loaded.predict(x).dataSync();
      expect([...b]).toEqual([...a]);
      loaded.dispose();
      x.dispose();
    } finally {
      t.dispose();
    }
  });

  it("frees every tensor it made", () => {
    const before = memory().tensors;
    const t = trainerFor(DEFAULT_CONFIG);
    t.step(20);
    t.evaluate();
    t.predictGrid(gridPoints(10));
    t.diagnostics();
    t.dispose();
    expect(memory().tensors).toBe(before);
  });
});
