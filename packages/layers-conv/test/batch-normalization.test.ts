import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { ArgumentError, ShapeError, type Tensor, Variable, fromValues, grad, memory, mul, sequential, setBackend, sum, use } from "@neurite/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type BatchNormParams, batchNorm, batchNormalization, convLayers } from "../src/index.js";
import { type Nd, channelStats, finiteDifferences, normalizeRef, randomNd, worstRatio } from "./reference.js";

beforeAll(() => {
  use(cpuBackend, wasmBackend, convLayers);
});

const toTensor = (a: Nd): Tensor => fromValues(Float32Array.from(a.data), a.shape);

/** Parameters with non-trivial γ, β and running statistics. */
function params(channels: number, seed: number, momentum = 0.1, epsilon = 1e-5) {
  const gamma = randomNd([channels], seed);
  const beta = randomNd([channels], seed + 1);
  const runMean = randomNd([channels], seed + 2);
  const runVar = { shape: [channels], data: randomNd([channels], seed + 3).data.map((v) => Math.fround(1 + v / 2)) };
  const make = (): BatchNormParams => ({
    scale: toTensor(gamma), offset: toTensor(beta),
    runningMean: new Variable(toTensor(runMean), "movingMean", false), runningVariance: new Variable(toTensor(runVar), "movingVariance", false),
    epsilon, momentum,
  });
  return { gamma, beta, runMean, runVar, make };
}

describe.each(["cpu", "wasm"])("%s backend: batchNorm", (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });

  it.each([[[4, 3, 3, 2]], [[5, 3]], [[2, 1, 1, 4]]])("training normalizes by the batch statistics and updates the running ones as PyTorch (%j)", (shape) => {
    const xs = randomNd(shape, 31);
    xs.data.forEach((v, i) => (xs.data[i] = Math.fround(v * 3 + 5))); // far from zero: the variance must not cancel
    const c = shape[shape.length - 1]!;
    const p = params(c, 32, 0.3);
    const bn = p.make();
    const y = batchNorm(toTensor(xs), bn, true);
    const { mean, variance, count } = channelStats(xs);
    expect(worstRatio(y.dataSync(), normalizeRef(xs, mean, variance, p.gamma.data, p.beta.data, 1e-5).data, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    // running = (1 − momentum)·running + momentum·batch, with the unbiased variance
    const wantMean = p.runMean.data.map((v, i) => 0.7 * v + 0.3 * mean[i]!);
    const wantVar = p.runVar.data.map((v, i) => 0.7 * v + 0.3 * variance[i]! * (count / (count - 1)));
    expect(worstRatio(bn.runningMean.dataSync(), wantMean, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(worstRatio(bn.runningVariance.dataSync(), wantVar, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("inference normalizes by the running statistics and leaves them alone", () => {
    const xs = randomNd([3, 2, 2, 3], 33);
    const p = params(3, 34);
    const bn = p.make();
    const y = batchNorm(toTensor(xs), bn, false);
    expect(worstRatio(y.dataSync(), normalizeRef(xs, p.runMean.data, p.runVar.data, p.gamma.data, p.beta.data, 1e-5).data, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(Array.from(bn.runningMean.dataSync())).toEqual(Array.from(Float32Array.from(p.runMean.data)));
  });

  it.each([true, false])("gradients for x, scale and offset match float64 finite differences (training %s)", (training) => {
    const xs = randomNd([3, 2, 2, 3], 35);
    const p = params(3, 36);
    const r = randomNd(xs.shape, 37);
    const loss64 = (): number => {
      const { mean, variance } = training ? channelStats(xs) : { mean: p.runMean.data, variance: p.runVar.data };
      return normalizeRef(xs, mean, variance, p.gamma.data, p.beta.data, 1e-5).data.reduce((s, v, i) => s + v * r.data[i]!, 0);
    };
    const bn = p.make();
    const [dx, dg, db] = grad((x: Tensor, g: Tensor, b: Tensor) => sum(mul(batchNorm(x, { ...bn, scale: g, offset: b }, training), toTensor(r))))(
      toTensor(xs), toTensor(p.gamma), toTensor(p.beta));
    expect(worstRatio(dx!.dataSync(), finiteDifferences(xs, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(worstRatio(dg!.dataSync(), finiteDifferences(p.gamma, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(worstRatio(db!.dataSync(), finiteDifferences(p.beta, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });

  it("NaN in gives NaN out in its channel only; a constant channel gives finite output (β)", () => {
    const x = fromValues(Float32Array.from([NaN, 2, 1, 2, 3, 2]), [3, 2]);
    const p = params(2, 38);
    const y = Array.from(batchNorm(x, p.make(), true).dataSync());
    expect(y.filter((_, i) => i % 2 === 0).every(Number.isNaN)).toBe(true);
    expect(y.filter((_, i) => i % 2 === 1).every((v) => Math.abs(v - Math.fround(p.beta.data[1]!)) < 1e-6)).toBe(true);
  });

  it("refuses a training batch with one value per channel (as PyTorch), leaving the running statistics and memory intact", () => {
    const bn = params(3, 39).make();
    const before = Array.from(bn.runningMean.dataSync());
    const tensorsBefore = memory().tensors;
    const x = toTensor(randomNd([1, 3], 40));
    expect(() => batchNorm(x, bn, true)).toThrow(ShapeError);
    expect(() => batchNorm(x, bn, true)).toThrow(/more than one value per channel/);
    x.dispose();
    expect(memory().tensors).toBe(tensorsBefore);
    expect(Array.from(bn.runningMean.dataSync())).toEqual(before);
  });
});

describe("batchNorm: cpu and wasm agree", () => {
  it("on random shapes, in training and inference (fast-check)", async () => {
    const arb = fc.record({
      dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), channels: fc.integer({ min: 1, max: 5 }),
      training: fc.boolean(), momentum: fc.double({ min: 0, max: 1, noNaN: true }), seed: fc.integer({ min: 0, max: 1e6 }),
    }).filter((c) => !c.training || c.dims.reduce((a, b) => a * b, 1) > 1);
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const xs = randomNd([...c.dims, c.channels], c.seed);
      const r = randomNd(xs.shape, c.seed + 1);
      const p = params(c.channels, c.seed + 2, c.momentum);
      const run = async (name: string): Promise<Float32Array[]> => {
        await setBackend(name);
        const bn = p.make();
        const y = batchNorm(toTensor(xs), bn, c.training);
        const [dx] = grad((x: Tensor) => sum(mul(batchNorm(x, p.make(), c.training), toTensor(r))))(toTensor(xs));
        return [y.dataSync(), dx!.dataSync(), bn.runningMean.dataSync(), bn.runningVariance.dataSync()];
      };
      const cpu = await run("cpu");
      const wasm = await run("wasm");
      for (let i = 0; i < 4; i++) expect(worstRatio(wasm[i]!, cpu[i]!, 1e-4, 1e-4)).toBeLessThanOrEqual(1);
    }), { numRuns: 25, seed: 20261206 });
  });
});

describe("batchNormalization layer", () => {
  beforeAll(async () => {
    await setBackend("cpu");
  });

  it("has PyTorch's defaults and weights; training updates the running statistics, predict uses them", () => {
    expect(batchNormalization.configure({})).toEqual({ momentum: 0.1, epsilon: 1e-5 });
    const model = sequential([{ type: "batchNormalization", inputShape: [2, 2, 3] }]);
    expect(model.weights.map((w) => [w.name.split("/").pop(), w.trainable])).toEqual([["gamma", true], ["beta", true], ["movingMean", false], ["movingVariance", false]]);
    const xs = randomNd([4, 2, 2, 3], 41);
    const { mean } = channelStats(xs);
    model.apply(toTensor(xs), { training: true });
    expect(worstRatio(model.weights[2]!.dataSync(), mean.map((m) => 0.1 * m), 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    // inference: (x − running mean)/√(running var + ε)
    const y = model.predict(toTensor(xs));
    const rm = Float64Array.from(model.weights[2]!.dataSync());
    const rv = Float64Array.from(model.weights[3]!.dataSync());
    expect(worstRatio(y.dataSync(), normalizeRef(xs, rm, rv, [1, 1, 1], [0, 0, 0], 1e-5).data, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("refuses Keras-style momentum outside [0, 1], a non-positive epsilon and unknown fields", () => {
    expect(() => batchNormalization.configure({ momentum: 1.5 })).toThrow(/momentum must be in \[0, 1\].*Keras's 0.99 is 0.01 here.*got 1.5/);
    expect(() => batchNormalization.configure({ epsilon: 0 })).toThrow(/epsilon must be a positive finite number, got 0/);
    expect(() => batchNormalization.configure({ epsilom: 1e-3 })).toThrow(ArgumentError);
    expect(() => batchNormalization.configure({ epsilom: 1e-3 })).toThrow(/did you mean "epsilon"/);
  });
});
