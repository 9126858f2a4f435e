import { describe, expect, it } from "vitest";
import { checkKeys, compare, toleranceFor } from "./check.js";
import { SUITES } from "./protocol.js";
import { SMALL, SMALL_METHODS, smallCase, smallCheckKeys, smallWeights, xorDataset } from "./small-suite.js";
import type { Runner } from "./runners/types.js";

describe("the small suite's data: the playground's xor set", () => {
  const { x, y } = xorDataset(SMALL.samples, SMALL.seed.data);

  it("has points pushed 0.3 off both axes inside [−5.3, 5.3]², labelled by the sign of x·y", () => {
    expect(x.length).toBe(2 * SMALL.samples);
    expect(y.length).toBe(SMALL.samples);
    for (let i = 0; i < SMALL.samples; i++) {
      const [a, b] = [x[2 * i]!, x[2 * i + 1]!];
      for (const v of [a, b]) {
        expect(Math.abs(v)).toBeGreaterThanOrEqual(0.3 - 1e-6);
        expect(Math.abs(v)).toBeLessThanOrEqual(5.3 + 1e-6);
      }
      expect(y[i]).toBe(a * b >= 0 ? 1 : -1);
    }
  });

  it("is balanced enough to be the xor task and is the same for the same seed", () => {
    const positives = y.filter((v) => v === 1).length;
    expect(positives).toBeGreaterThan(0.35 * SMALL.samples);
    expect(positives).toBeLessThan(0.65 * SMALL.samples);
    // all four quadrants are populated
    const quadrants = new Set<string>();
    for (let i = 0; i < SMALL.samples; i++) quadrants.add(`${Math.sign(x[2 * i]!)}${Math.sign(x[2 * i + 1]!)}`);
    expect(quadrants.size).toBe(4);
    expect(xorDataset(SMALL.samples, SMALL.seed.data)).toEqual({ x, y });
    expect(xorDataset(SMALL.samples, SMALL.seed.data + 1).x).not.toEqual(x);
  });
});

describe("the small suite's initial weights", () => {
  it("follow the playground: weights uniform in [−0.5, 0.5), biases 0.1, W of shape [in, out]", () => {
    const w = smallWeights([2, 32, 32, 32, 1], 3);
    expect(w.map((a) => a.length)).toEqual([64, 32, 1024, 32, 1024, 32, 32, 1]);
    for (const i of [0, 2, 4, 6]) {
      const max = Math.max(...w[i]!.map(Math.abs));
      expect(max).toBeLessThanOrEqual(0.5);
      expect(max).toBeGreaterThan(0.4);
    }
    for (const i of [1, 3, 5, 7]) expect(w[i]!.every((v) => v === Math.fround(0.1))).toBe(true);
  });
});

describe("the small suite's rows and checks", () => {
  it("is a suite of the CLI, and each of its rows is checked by the losses and weights of its network", () => {
    expect(SUITES).toContain("small");
    for (const widths of SMALL.networks) {
      for (const method of SMALL_METHODS) {
        const keys = checkKeys("small", smallCase(widths, method));
        expect(keys).toEqual([`small:${widths.join("-")}:loss`, `small:${widths.join("-")}:weights`]);
      }
    }
    // the 2-8-8-1 keys are not the 2-32-32-32-1 keys
    expect(smallCheckKeys("mlp 2-8-8-1 fit")).not.toEqual(smallCheckKeys("mlp 2-32-32-32-1 fit"));
    expect(smallCheckKeys("something else")).toEqual([]);
  });
});

/**
 * The playground's rule, written here from its definition in float64: tanh on every layer, error
 * ½(out − target)² per point, the gradient averaged over the batch, w −= 0.03 · mean gradient. Returns the
 * losses before each step (as mean((o − t)²), what the libraries report) and the final weights.
 */
function playgroundRule(widths: readonly number[], initial: readonly Float32Array[], x: Float32Array, y: Float32Array, steps: number): { losses: number[]; weights: Float64Array[] } {
  const w = initial.map((a) => Float64Array.from(a));
  const layers = widths.length - 1;
  const losses: number[] = [];
  const n = SMALL.batchSize;
  for (let s = 0; s < steps; s++) {
    const grads = w.map((a) => new Float64Array(a.length));
    let loss = 0;
    for (let i = s * n; i < (s + 1) * n; i++) {
      const acts: Float64Array[] = [Float64Array.from([x[2 * i]!, x[2 * i + 1]!])];
      for (let l = 0; l < layers; l++) {
        const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
        const out = new Float64Array(fanOut);
        for (let o = 0; o < fanOut; o++) {
          let z = w[2 * l + 1]![o]!;
          for (let k = 0; k < fanIn; k++) z += acts[l]![k]! * w[2 * l]![k * fanOut + o]!;
          out[o] = Math.tanh(z);
        }
        acts.push(out);
      }
      const err = acts[layers]![0]! - y[i]!;
      loss += (err * err) / n;
      // δ of the output's total input: (o − t)·(1 − o²), then back through the layers
      let delta = Float64Array.of(err * (1 - acts[layers]![0]! ** 2));
      for (let l = layers - 1; l >= 0; l--) {
        const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
        const prev = new Float64Array(fanIn);
        for (let o = 0; o < fanOut; o++) {
          grads[2 * l + 1]![o]! += delta[o]! / n;
          for (let k = 0; k < fanIn; k++) {
            grads[2 * l]![k * fanOut + o]! += (acts[l]![k]! * delta[o]!) / n;
            prev[k]! += w[2 * l]![k * fanOut + o]! * delta[o]!;
          }
        }
        delta = prev.map((v, k) => v * (1 - acts[l]![k]! ** 2));
      }
    }
    losses.push(loss);
    w.forEach((a, j) => a.forEach((v, k) => (a[k] = v - SMALL.playgroundLr * grads[j]![k]!)));
  }
  return { losses, weights: w };
}

describe.each(["neurite", "tfjs"] as const)("the small network on %s cpu", (library) => {
  it("takes the playground's SGD steps (lr 0.03 on ½ squared error) through its built-in mean squared error at lr 0.015", async () => {
    const runner = (library === "neurite"
      ? await (await import("./runners/neurite.js")).createNeuriteRunner("cpu")
      : await (await import("./runners/tfjs.js")).createTfjsRunner("cpu")) as Runner<unknown>;
    const { x, y } = xorDataset(SMALL.samples, SMALL.seed.data);
    const steps = SMALL.checkSteps;
    for (const widths of SMALL.networks) {
      const init = smallWeights(widths, SMALL.seed.weights);
      const want = playgroundRule(widths, init, x, y, steps);
      const model = runner.small(widths, init);
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) {
        const xb = runner.tensor(x.subarray(s * SMALL.batchSize * 2, (s + 1) * SMALL.batchSize * 2), [SMALL.batchSize, 2]);
        const yb = runner.tensor(y.subarray(s * SMALL.batchSize, (s + 1) * SMALL.batchSize), [SMALL.batchSize, 1]);
        losses.push(await model.trainOnBatch(xb, yb));
        runner.free(xb);
        runner.free(yb);
      }
      const got = model.weights();
      model.dispose();
      const lossCheck = compare(Float32Array.from(losses), Float32Array.from(want.losses), toleranceFor(`small:${widths.join("-")}:loss`));
      expect(lossCheck, `losses of ${widths.join("-")}: ${losses.join(", ")} vs ${want.losses.join(", ")}`).toMatchObject({ ok: true });
      // the steps move the weights: a check that would pass without training would be no check
      expect(Math.max(...want.weights[0]!.map((v, k) => Math.abs(v - init[0]![k]!)))).toBeGreaterThan(1e-4);
      got.forEach((a, j) => {
        const c = compare(a, Float32Array.from(want.weights[j]!), toleranceFor(`small:${widths.join("-")}:weights`));
        expect(c, `weights[${j}] of ${widths.join("-")}: max |diff| ${c.maxAbs}`).toMatchObject({ ok: true });
      });
    }
  }, 60_000);
});
