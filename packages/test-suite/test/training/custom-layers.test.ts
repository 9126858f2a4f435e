/**
 * Layers defined outside the core (here, in this file) are first-class: registered with use(), trained,
 * saved and loaded. PReLU inside Dense: its slope is a trainable weight with a correct gradient.
 */
import {
  type BoundActivation, ConfigReader, Random, type Sequential, SerializationError, type Tensor, type Variable, adam,
  applyActivation, defineLayer, layers, loadModel, matmul, memory, mse, mul, add, resolveActivation, saveModel, scope,
  sequential, tensor, use, valueAndGradOf,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

interface ScaleConfig {
  /** Initial value of every per-feature scale. */
  readonly init: number;
}

interface ResidualDenseConfig {
  readonly activation: BoundActivation;
}

declare module "@neurite/core" {
  interface LayerRegistry {
    learnedScale: ScaleConfig;
    residualDense: ResidualDenseConfig;
  }
}

const PACKAGE = "@neurite/test-suite-custom-layers";

/** y = x ⊙ s with one learned scale per feature. */
const learnedScale = defineLayer<ScaleConfig>({
  name: "learnedScale", package: PACKAGE, version: "1.0.0", description: "x ⊙ s, s learned per feature",
  configure: (config) => ({ init: new ConfigReader("learnedScale", config, ["init"]).number("init", 1) }),
  build: (config, inputShape, ctx) => {
    const s = ctx.addWeight("scale", [inputShape[inputShape.length - 1]!], { name: "constant", value: config.init });
    return { outputShape: inputShape, call: (x) => mul(x, s) };
  },
});

/** y = x + f(x·W + b) with a square W: a residual block. */
const residualDense = defineLayer<ResidualDenseConfig>({
  name: "residualDense", package: PACKAGE, version: "1.0.0", description: "x + f(x·W + b)",
  configure: (config) => {
    const r = new ConfigReader("residualDense", config, ["activation"]);
    return { activation: resolveActivation((r.raw("activation") ?? "relu") as Parameters<typeof resolveActivation>[0]) };
  },
  build: (config, inputShape, ctx) => {
    const d = inputShape[inputShape.length - 1]!;
    const kernel = ctx.addWeight("kernel", [d, d], "glorotUniform");
    const bias = ctx.addWeight("bias", [d], "zeros");
    return { outputShape: inputShape, call: (x) => add(x, applyActivation(add(matmul(x, kernel), bias), config.activation)) };
  },
});

beforeAll(async () => {
  await setupCpu();
  use(learnedScale, residualDense);
});

/** y = sin(x0) + x1·x2 on seeded inputs. */
function regression(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const xs = Array.from({ length: n * 3 }, () => rng.next() * 2 - 1);
  const ys = Array.from({ length: n }, (_, i) => Math.sin(2 * xs[3 * i]!) + xs[3 * i + 1]! * xs[3 * i + 2]!);
  return { x: tensor(xs, [n, 3]), y: tensor(ys, [n, 1]) };
}

const weight = (m: Sequential, name: string): Variable => m.weights.find((w) => w.name === name)!;

describe("a custom layer defined with defineLayer", () => {
  let model: Sequential;
  let data: { x: Tensor; y: Tensor };

  beforeAll(() => {
    data = regression(64, 3);
    model = sequential([
      { type: "dense", units: 12, activation: "tanh", inputShape: [3] },
      { type: "residualDense", activation: "tanh" },
      { type: "learnedScale", init: 0.5 },
      { type: "dense", units: 1 },
    ], { seed: 11 });
  });

  it("is registered by use() under its name and package", () => {
    expect(layers.get("residualDense").package).toBe(PACKAGE);
    expect(model.weights.map((w) => w.name)).toEqual([
      "dense1/kernel", "dense1/bias", "residualDense1/kernel", "residualDense1/bias", "learnedScale1/scale", "dense2/kernel", "dense2/bias",
    ]);
  });

  it("trains: the loss falls and its own weights move", async () => {
    const scaleBefore = Array.from(weight(model, "learnedScale1/scale").dataSync());
    const kernelBefore = Array.from(weight(model, "residualDense1/kernel").dataSync());
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "mse" });
    const history = await model.fit(data.x, data.y, { epochs: 30, batchSize: 16 });
    const losses = history.history.loss!;
    expect(losses[losses.length - 1]!).toBeLessThan(0.2 * losses[0]!);
    expect(Array.from(weight(model, "learnedScale1/scale").dataSync())).not.toEqual(scaleBefore);
    expect(Array.from(weight(model, "residualDense1/kernel").dataSync())).not.toEqual(kernelBefore);
  });

  it("saves and loads with its config, package and weights", () => {
    const saved = saveModel(model);
    const entry = saved.json.layers[1]!;
    expect(entry).toMatchObject({ type: "residualDense", package: PACKAGE, version: "1.0.0" });
    expect(entry.config).toEqual({ activation: { $activation: { package: "@neurite/activations-sigmoid", name: "tanh", version: "0.1.0", params: {} } } });
    expect(saved.json.layers[2]!.config).toEqual({ init: 0.5 });
    const loaded = loadModel(saved);
    const a = model.predict(data.x);
    const b = loaded.predict(data.x);
    expect(b.dataSync()).toEqual(a.dataSync());
    a.dispose();
    b.dispose();
    loaded.dispose();
  });

  it("loading it where it is not registered names its package", () => {
    const saved = saveModel(model);
    const before = memory().tensors;
    layers.unregister("residualDense");
    try {
      expect(() => loadModel(saved)).toThrow(SerializationError);
      expect(() => loadModel(saved)).toThrow(new RegExp(`"residualDense" is provided by ${PACKAGE}`));
    } finally {
      use(residualDense);
    }
    expect(memory().tensors).toBe(before);
  });
});

describe("PReLU as a Dense activation", () => {
  /** The network's loss in float64, from the model's current weights with the slope replaced by `alpha`. */
  function loss64(m: Sequential, xs: number[], ys: number[], alpha: number): number {
    const W1 = Array.from(weight(m, "dense1/kernel").dataSync());
    const b1 = Array.from(weight(m, "dense1/bias").dataSync());
    const W2 = Array.from(weight(m, "dense2/kernel").dataSync());
    const b2 = weight(m, "dense2/bias").dataSync()[0]!;
    const units = b1.length;
    let total = 0;
    ys.forEach((target, r) => {
      let out = b2;
      for (let j = 0; j < units; j++) {
        let z = b1[j]!;
        for (let i = 0; i < 3; i++) z += xs[r * 3 + i]! * W1[i * units + j]!;
        out += (z > 0 ? z : alpha * z) * W2[j]!;
      }
      total += (out - target) ** 2;
    });
    return total / ys.length;
  }

  it("makes the slope a trainable weight whose gradient matches float64 central differences", () => {
    const { x, y } = regression(20, 8);
    const m = sequential([
      { type: "dense", units: 6, activation: "prelu", inputShape: [3] },
      { type: "dense", units: 1 },
    ], { seed: 2 });
    const alpha = weight(m, "dense1/activation.alpha");
    expect(alpha.trainable).toBe(true);
    expect(Array.from(alpha.dataSync())).toEqual([0.25]);
    const params = m.trainableWeights;
    const dAlpha = scope(() => valueAndGradOf(() => mse(y, m.apply(x)), params).grads[params.indexOf(alpha)]!.item());
    const xs = Array.from(x.dataSync());
    const ys = Array.from(y.dataSync());
    const h = 1e-5;
    const fd = (loss64(m, xs, ys, 0.25 + h) - loss64(m, xs, ys, 0.25 - h)) / (2 * h);
    expect(Math.abs(fd)).toBeGreaterThan(1e-3); // some pre-activations are negative: the slope matters
    expect(Math.abs(dAlpha - fd)).toBeLessThanOrEqual(1e-4 * Math.abs(fd) + 1e-6);
    m.dispose();
    x.dispose();
    y.dispose();
  });

  it("changes its slope during training", async () => {
    const { x, y } = regression(32, 5);
    const m = sequential([
      { type: "dense", units: 6, activation: "prelu", inputShape: [3] },
      { type: "dense", units: 1 },
    ], { seed: 2 });
    m.compile({ optimizer: adam({ lr: 0.05 }), loss: "mse" });
    const history = await m.fit(x, y, { epochs: 30, batchSize: 8 });
    const slope = weight(m, "dense1/activation.alpha").dataSync()[0]!;
    expect(Math.abs(slope - 0.25)).toBeGreaterThan(1e-2);
    const losses = history.history.loss!;
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    m.dispose();
    x.dispose();
    y.dispose();
  });
});
