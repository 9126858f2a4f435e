import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import {
  ArgumentError, ShapeError, type Tensor, fromValues, grad, memory, mul, resolveActivation, sequential, setBackend, sum, use,
} from "@neurite/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { conv2d, convLayers, convolution2d } from "../src/index.js";
import { type ConvSpec, type Nd, conv2dRef, finiteDifferences, randomNd, worstRatio } from "./reference.js";

beforeAll(() => {
  use(cpuBackend, wasmBackend, reluFamily, softmaxFamily, convLayers);
});

const toTensor = (a: Nd): Tensor => fromValues(Float32Array.from(a.data), a.shape);
const elu64 = (v: number): number => (v > 0 ? v : Math.expm1(v));

const CASES: readonly { name: string; x: number[]; k: number[]; spec: ConvSpec }[] = [
  { name: "3×3 valid", x: [2, 6, 5, 3], k: [3, 3, 3, 4], spec: { strides: [1, 1], padding: "valid", dilation: [1, 1], groups: 1 } },
  { name: "3×3 same, stride 2", x: [1, 7, 6, 2], k: [3, 3, 2, 5], spec: { strides: [2, 2], padding: "same", dilation: [1, 1], groups: 1 } },
  { name: "2×4 same, strides [1, 3]", x: [2, 5, 9, 3], k: [2, 4, 3, 2], spec: { strides: [1, 3], padding: "same", dilation: [1, 1], groups: 1 } },
  { name: "dilation 2 same", x: [1, 8, 7, 2], k: [3, 3, 2, 3], spec: { strides: [1, 1], padding: "same", dilation: [2, 2], groups: 1 } },
  { name: "dilation [2, 1] valid, stride 2", x: [2, 9, 6, 1], k: [3, 2, 1, 2], spec: { strides: [2, 1], padding: "valid", dilation: [2, 1], groups: 1 } },
  { name: "groups 2", x: [2, 5, 5, 4], k: [3, 3, 2, 6], spec: { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 2 } },
  { name: "depthwise ×2", x: [1, 6, 5, 3], k: [3, 3, 1, 6], spec: { strides: [2, 1], padding: "same", dilation: [1, 1], groups: 3 } },
  { name: "1×1", x: [3, 4, 4, 5], k: [1, 1, 5, 2], spec: { strides: [1, 1], padding: "valid", dilation: [1, 1], groups: 1 } },
];

describe.each(["cpu", "wasm"])("%s backend: conv2d", (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });

  it.each(CASES)("forward matches the direct float64 convolution ($name, bias)", ({ x, k, spec }) => {
    const xs = randomNd(x, 1);
    const ks = randomNd(k, 2);
    const bs = randomNd([k[3]!], 3);
    const want = conv2dRef(xs, ks, bs, spec);
    const y = convolution2d(toTensor(xs), toTensor(ks), { ...spec, bias: toTensor(bs) });
    expect(y.shape).toEqual(want.shape);
    expect(worstRatio(y.dataSync(), want.data, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("applies the fused activation after the bias (relu, and softmax over the filters)", () => {
    const spec = CASES[1]!.spec;
    const xs = randomNd([2, 5, 5, 2], 4);
    const ks = randomNd([3, 3, 2, 4], 5);
    const bs = randomNd([4], 6);
    const z = conv2dRef(xs, ks, bs, spec).data;
    const relu = convolution2d(toTensor(xs), toTensor(ks), { ...spec, bias: toTensor(bs), activation: resolveActivation("relu") });
    expect(worstRatio(relu.dataSync(), z.map((v) => Math.max(0, v)), 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    const soft = convolution2d(toTensor(xs), toTensor(ks), { ...spec, bias: toTensor(bs), activation: resolveActivation("softmax") }).dataSync();
    const want = new Float64Array(z.length);
    for (let i = 0; i < z.length; i += 4) {
      const row = Array.from(z.subarray(i, i + 4));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => (want[i + j] = v / s));
    }
    expect(worstRatio(soft, want, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  });

  it.each(CASES.filter((c) => c.name !== "1×1"))("gradients for input, kernel and bias match float64 finite differences ($name, elu)", ({ x, k, spec }) => {
    const xs = randomNd(x, 7);
    const ks = randomNd(k, 8);
    const bs = randomNd([k[3]!], 9);
    const y0 = conv2dRef(xs, ks, bs, spec);
    const weights = randomNd(y0.shape, 10);
    // L = Σ r ⊙ elu(x ⊛ W + b): nonlinear, so the activation's chain rule is checked too
    const loss64 = (): number => {
      const y = conv2dRef(xs, ks, bs, spec);
      let s = 0;
      for (let i = 0; i < y.data.length; i++) s += weights.data[i]! * elu64(y.data[i]!);
      return s;
    };
    const act = resolveActivation("elu");
    const r = toTensor(weights);
    const [dx, dk, db] = grad((xt: Tensor, kt: Tensor, bt: Tensor) => sum(mul(convolution2d(xt, kt, { ...spec, bias: bt, activation: act }), r)))(
      toTensor(xs), toTensor(ks), toTensor(bs));
    expect(worstRatio(dx!.dataSync(), finiteDifferences(xs, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(worstRatio(dk!.dataSync(), finiteDifferences(ks, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(worstRatio(db!.dataSync(), finiteDifferences(bs, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });

  it.each([1, 2])("gives the kernel's gradient when the input is not watched, as in training (groups %i)", (groups) => {
    const spec: ConvSpec = { strides: [1, 1], padding: "same", dilation: [1, 1], groups };
    const xs = randomNd([2, 4, 4, 2], 14);
    const ks = randomNd([3, 3, 2 / groups, 2], 15);
    const r = randomNd([2, 4, 4, 2], 16);
    const loss64 = (): number => conv2dRef(xs, ks, undefined, spec).data.reduce((s, v, i) => s + v * r.data[i]!, 0);
    const x = toTensor(xs);
    const [dk] = grad((kt: Tensor) => sum(mul(convolution2d(x, kt, spec), toTensor(r))))(toTensor(ks));
    expect(worstRatio(dk!.dataSync(), finiteDifferences(ks, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });

  it("NaN in an input pixel gives NaN exactly in the outputs whose windows read it", () => {
    const xs = randomNd([1, 5, 5, 1], 17);
    xs.data[2 * 5 + 2] = NaN; // the centre pixel
    const y = convolution2d(toTensor(xs), toTensor(randomNd([3, 3, 1, 1], 18)), { strides: 2, padding: "same" }).dataSync();
    // "same" with stride 2 on 5: 3 outputs, one padding row before; output o reads rows 2o − 1 … 2o + 1
    const reads = (o: number): boolean => o * 2 - 1 <= 2 && 2 <= o * 2 + 1;
    const want = Array.from({ length: 9 }, (_, i) => reads(Math.floor(i / 3)) && reads(i % 3));
    expect(want.filter(Boolean).length).toBe(1);
    expect(Array.from(y, (v) => Number.isNaN(v))).toEqual(want);
  });

  it("refuses an im2col copy no tensor can hold, before allocating it", () => {
    expect(() => sequential([{ type: "conv2d", filters: 1, kernelSize: [2 ** 20, 2 ** 20], padding: "same", inputShape: [2 ** 12, 2 ** 12, 64] }]))
      .toThrow(/more than a tensor can hold.*smaller kernel/);
  });

  it("leaves no tensor behind (forward, and a gradient step)", () => {
    const xs = toTensor(randomNd([1, 5, 5, 2], 11));
    const ks = toTensor(randomNd([3, 3, 2, 2], 12));
    const before = memory().tensors;
    convolution2d(xs, ks, { padding: "same", strides: 2 }).dispose();
    grad((a: Tensor, b: Tensor) => sum(convolution2d(a, b, { padding: "same" })))(xs, ks).forEach((t) => t.dispose());
    expect(memory().tensors).toBe(before);
  });
});

describe("conv2d: cpu and wasm agree", () => {
  it("on random shapes, strides, padding, dilation and groups (fast-check)", async () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }), height: fc.integer({ min: 1, max: 9 }), width: fc.integer({ min: 1, max: 9 }),
      groupChannels: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 3 }), perGroup: fc.integer({ min: 1, max: 3 }),
      kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
      dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }), padding: fc.constantFrom("valid" as const, "same" as const),
      seed: fc.integer({ min: 0, max: 1e6 }),
    }).filter((c) => c.padding === "same" || ((c.kh - 1) * c.dh < c.height && (c.kw - 1) * c.dw < c.width));
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const spec: ConvSpec = { strides: [c.sh, c.sw], padding: c.padding, dilation: [c.dh, c.dw], groups: c.groups };
      const xs = randomNd([c.batch, c.height, c.width, c.groupChannels * c.groups], c.seed);
      const ks = randomNd([c.kh, c.kw, c.groupChannels, c.perGroup * c.groups], c.seed + 1);
      const r = randomNd(conv2dRef(xs, ks, undefined, spec).shape, c.seed + 2);
      const run = async (name: string): Promise<Float32Array[]> => {
        await setBackend(name);
        const y = convolution2d(toTensor(xs), toTensor(ks), spec);
        const [dx, dk] = grad((a: Tensor, b: Tensor) => sum(mul(convolution2d(a, b, spec), toTensor(r))))(toTensor(xs), toTensor(ks));
        return [y.dataSync(), dx!.dataSync(), dk!.dataSync()];
      };
      const cpu = await run("cpu");
      const wasm = await run("wasm");
      for (let i = 0; i < 3; i++) expect(worstRatio(wasm[i]!, cpu[i]!, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    }), { numRuns: 25, seed: 20261206 });
  });
});

describe("conv2d layer", () => {
  beforeAll(async () => {
    await setBackend("cpu");
  });

  it("builds its weights in Keras's layout and predicts the reference convolution", () => {
    const model = sequential([{ type: "conv2d", filters: 4, kernelSize: [3, 2], strides: 2, padding: "same", activation: "relu", inputShape: [7, 6, 3] }]);
    const [kernel, bias] = model.weights;
    expect(kernel!.shape).toEqual([3, 2, 3, 4]);
    expect(bias!.shape).toEqual([4]);
    const xs = randomNd([2, 7, 6, 3], 13);
    const want = conv2dRef(xs, { shape: kernel!.shape, data: Float64Array.from(kernel!.dataSync()) }, { shape: [4], data: Float64Array.from(bias!.dataSync()) },
      { strides: [2, 2], padding: "same", dilation: [1, 1], groups: 1 });
    const y = model.predict(toTensor(xs));
    expect(y.shape).toEqual([2, 4, 3, 4]);
    expect(worstRatio(y.dataSync(), want.data.map((v) => Math.max(0, v)), 1e-5, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("initializes with Keras's fans (receptive field × channels): glorotUniform's limit", () => {
    const model = sequential([{ type: "conv2d", filters: 8, kernelSize: 3, inputShape: [5, 5, 4] }]);
    const limit = Math.sqrt(6 / (9 * 4 + 9 * 8));
    const values = Array.from(model.weights[0]!.dataSync());
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(limit);
    // a uniform sample of 288 values reaches beyond 80 % of its limit
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.8 * limit);
  });

  it("gives depthwise kernels with groups = channels, and no bias with useBias false", () => {
    const model = sequential([{ type: "conv2d", filters: 6, kernelSize: 3, groups: 3, useBias: false, inputShape: [5, 5, 3] }]);
    expect(model.weights.map((w) => w.shape)).toEqual([[3, 3, 1, 6]]);
  });

  it("is typed through the layer registry: a wrong padding is a compile error and a run-time ArgumentError", () => {
    // @ts-expect-error padding is "valid" | "same"
    expect(() => sequential([{ type: "conv2d", filters: 2, kernelSize: 3, padding: "full", inputShape: [4, 4, 1] }])).toThrow(ArgumentError);
  });

  it("refuses an unknown field and names the closest one", () => {
    expect(() => conv2d.configure({ filters: 2, kernelSize: 3, stride: 2 })).toThrow(ArgumentError);
    expect(() => conv2d.configure({ filters: 2, kernelSize: 3, stride: 2 })).toThrow(/unknown config field "stride".*did you mean "strides"/);
  });

  it("refuses bad values with the field, the value and what is expected", () => {
    expect(() => conv2d.configure({ filters: 2, kernelSize: 3, padding: "smae" })).toThrow(/padding must be "valid" or "same", got "smae"/);
    expect(() => conv2d.configure({ filters: 2, kernelSize: [3, 0] })).toThrow(/kernelSize must be a positive integer or \[height, width\].*got \[3,0\]/);
    expect(() => conv2d.configure({ filters: 2 })).toThrow(/kernelSize.*got undefined/);
    expect(() => conv2d.configure({ filters: 3, kernelSize: 3, groups: 2 })).toThrow(/filters \(3\) must be a multiple of groups \(2\)/);
    expect(() => conv2d.configure({ filters: 2, kernelSize: 3, activation: "relux" })).toThrow(/relux/);
  });

  it("reports shape problems as ShapeErrors that say what to do", () => {
    expect(() => sequential([{ type: "conv2d", filters: 2, kernelSize: 5, inputShape: [4, 9, 1] }])).toThrow(ShapeError);
    expect(() => sequential([{ type: "conv2d", filters: 2, kernelSize: 5, inputShape: [4, 9, 1] }])).toThrow(/larger than the input size 4.*padding "same"/);
    expect(() => sequential([{ type: "conv2d", filters: 2, kernelSize: 3, inputShape: [8, 8] }])).toThrow(/NHWC.*transpose\(x, \[0, 2, 3, 1\]\)/);
    expect(() => sequential([{ type: "conv2d", filters: 2, kernelSize: 3, groups: 2, inputShape: [8, 8, 3] }])).toThrow(/groups \(2\) must divide the input channels \(3\)/);
    const model = sequential([{ type: "conv2d", filters: 2, kernelSize: 3, inputShape: [8, 8, 3] }]);
    expect(() => model.predict(toTensor(randomNd([1, 8, 8, 2], 1)))).toThrow(/expected inputs of shape \[batch, 8, 8, 3\], got \[1, 8, 8, 2\]/);
  });
});
