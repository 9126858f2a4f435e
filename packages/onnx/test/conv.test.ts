import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { type LayerSpec, type Sequential, adam, fromValues, sequential, use } from "@neurite/core";
import { convLayers } from "@neurite/layers-conv";
import { describe, expect, it } from "vitest";
import { OnnxError, exportOnnx, importOnnx } from "../src/index.js";
import { decodeModel, encodeModel, type ModelProto, type NodeProto } from "../src/proto.js";
import { forEachBackend, mismatches, predictValues, random, runOrt } from "./helpers.js";

use(reluFamily, softmaxFamily, convLayers);

/** The digits CNN of the layers-conv issue, on 8×8 grey images. */
function digitsCnn(): Sequential {
  return sequential([
    { type: "conv2d", filters: 16, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] },
    { type: "maxPool2d", poolSize: 2 },
    { type: "conv2d", filters: 32, kernelSize: 3, padding: "same", activation: "relu" },
    { type: "globalAveragePooling2d" },
    { type: "dense", units: 10, activation: "softmax" },
  ] as LayerSpec[], { seed: 1 });
}

/**
 * Every option of the conv layers on odd sizes, so TensorFlow's "same" pads are asymmetric (the extra row after)
 * for strides 2 and for the pooling: strides, dilation, "valid", depthwise and grouped kernels, no bias, a
 * parametric activation (written after the Transpose back), batchNormalization on images and on features,
 * average pooling whose padding is not counted, and a flatten of an NHWC block.
 */
function variantCnn(): Sequential {
  return sequential([
    { type: "conv2d", filters: 6, kernelSize: 3, strides: 2, padding: "same", inputShape: [12, 9, 3] },
    { type: "batchNormalization", epsilon: 1e-3, momentum: 0.05 },
    { type: "activation", activation: "relu" },
    { type: "conv2d", filters: 6, kernelSize: [3, 2], dilation: 2, padding: "valid", groups: 6, activation: "leakyRelu" },
    { type: "conv2d", filters: 4, kernelSize: 2, padding: "same", groups: 2, useBias: false, activation: "prelu" },
    { type: "avgPool2d", poolSize: 3, strides: 2, padding: "same" },
    { type: "maxPool2d", poolSize: [2, 1], strides: 1, padding: "same" },
    { type: "flatten" },
    { type: "dense", units: 8 },
    { type: "batchNormalization" },
    { type: "dense", units: 5, activation: "softmax" },
  ] as LayerSpec[], { seed: 2 });
}

/** Random biases, BN scales, offsets and running statistics (the defaults are zeros and ones, which would hide a swapped input). */
function randomizeStatistics(model: Sequential, seed: number): Sequential {
  const r = random(seed);
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const local = w.name.slice(layer.name.length + 1);
      if (!["bias", "gamma", "beta", "movingMean", "movingVariance", "activation.alpha"].includes(local)) continue;
      const values = Float32Array.from({ length: w.size }, () => (local === "movingVariance" ? 0.2 + 2 * r() : r() * 2 - 1));
      const t = fromValues(values, w.shape);
      w.assign(t);
      t.dispose();
    }
  }
  return model;
}

function images(count: number, shape: readonly number[], seed: number): Float32Array {
  const r = random(seed);
  return Float32Array.from({ length: count * shape.reduce((a, b) => a * b, 1) }, () => r() * 4 - 2);
}

const cases = [
  { name: "the digits CNN", make: () => digitsCnn(), shape: [8, 8, 1] },
  { name: "the variant (strides 2, dilation 2, valid, depthwise, groups, batchNormalization, avgPool same)", make: () => variantCnn(), shape: [12, 9, 3] },
] as const;

forEachBackend("conv layers to ONNX Runtime and back", () => {
  for (const c of cases) {
    it(`${c.name}: ONNX Runtime agrees with predict to 1e-5 relative + 1e-6 absolute`, async () => {
      const model = randomizeStatistics(c.make(), 7);
      const xs = images(5, c.shape, 11);
      const got = await runOrt(exportOnnx(model), xs, [5, ...c.shape]);
      expect(mismatches(got, predictValues(model, xs, [5, ...c.shape]))).toEqual([]);
      model.dispose();
    });

    it(`${c.name}: importOnnx(exportOnnx(m)) predicts bit for bit like m, with the same layers`, () => {
      const model = randomizeStatistics(c.make(), 8);
      const again = importOnnx(exportOnnx(model));
      expect(again.layers.map((l) => l.plugin.name)).toEqual(model.layers.map((l) => l.plugin.name));
      const xs = images(4, c.shape, 12);
      expect(Array.from(predictValues(again, xs, [4, ...c.shape]))).toEqual(Array.from(predictValues(model, xs, [4, ...c.shape])));
      model.dispose();
      again.dispose();
    });
  }
});

forEachBackend("an imported CNN trains on", () => {
  it("importOnnx(exportOnnx(variant)) trains (batchNormalization in training mode too), and its export follows the trained weights", async () => {
    const original = randomizeStatistics(variantCnn(), 9);
    const model = importOnnx(exportOnnx(original));
    original.dispose();
    const shape = [16, 12, 9, 3];
    const xs = images(16, shape.slice(1), 13);
    const labels = new Float32Array(16 * 5);
    for (let i = 0; i < 16; i++) labels[i * 5 + (i % 5)] = 1;
    const x = fromValues(xs, shape);
    const y = fromValues(labels, [16, 5]);
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "categoricalCrossEntropy" });
    const first = model.trainOnBatch(x, y).loss!;
    let last = first;
    for (let i = 0; i < 30; i++) last = model.trainOnBatch(x, y).loss!;
    expect(last).toBeLessThan(first * 0.8);
    expect(mismatches(await runOrt(exportOnnx(model), xs, shape), predictValues(model, xs, shape))).toEqual([]);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });
});

describe("exportOnnx writes the conv block in NCHW between two Transposes", () => {
  it("one Transpose in before the first conv, one out before flatten, OIHW kernels and explicit asymmetric pads", () => {
    const model = variantCnn();
    const graph = decodeModel(exportOnnx(model)).graph!;
    // in before the first conv (relu between conv blocks needs none), out before prelu's per-channel slope, in
    // before avgPool, out before flatten
    const perms = graph.node!.filter((n) => n.op_type === "Transpose").map((n) => n.attribute![0]!.ints!.map(Number).join(""));
    expect(perms).toEqual(["0312", "0231", "0312", "0231"]);
    expect(graph.node![0]!.op_type).toBe("Transpose");
    const conv = graph.node!.find((n) => n.op_type === "Conv")!;
    const attr = (n: NodeProto, k: string) => n.attribute!.find((a) => a.name === k)!;
    // 12 × 9 input, kernel 3, stride 2: 6 × 5 outputs need 1 row (after: [0, 1]) and 2 columns ([1, 1]) of padding
    expect(attr(conv, "pads").ints!.map(Number)).toEqual([0, 1, 1, 1]);
    const kernel = graph.initializer!.find((t) => t.name === conv.input![1])!;
    expect(kernel.dims!.map(Number)).toEqual([6, 3, 3, 3]);
    const avg = graph.node!.find((n) => n.op_type === "AveragePool")!;
    expect(Number(attr(avg, "count_include_pad").i)).toBe(0);
    model.dispose();
  });
});

const dims = (d: (number | string)[]) => ({ tensor_type: { elem_type: 1, shape: { dim: d.map((v) => (typeof v === "number" ? { dim_value: v } : { dim_param: v })) } } });

/** A one-Conv graph as torch.onnx.export writes it: NCHW input, [F, C, kH, kW] weight. */
function torchConv(edit: (m: ModelProto) => void = () => undefined): Uint8Array {
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "torch",
      node: [{ op_type: "Conv", name: "/conv/Conv", input: ["input", "w"], output: ["output"], attribute: [{ name: "kernel_shape", type: 7, ints: [3, 3] }, { name: "pads", type: 7, ints: [1, 1, 1, 1] }] }],
      initializer: [{ name: "w", data_type: 1, dims: [2, 1, 3, 3], float_data: Array.from({ length: 18 }, (_, i) => i / 10) }],
      input: [{ name: "input", type: dims(["N", 1, 8, 8]) }],
      output: [{ name: "output", type: dims(["N", 2, 8, 8]) }],
    },
  };
  edit(model);
  return encodeModel(model);
}

describe("importOnnx of conv graphs it cannot represent", () => {
  it("refuses a Conv on the NCHW graph input, saying how to export NHWC", () => {
    expect(() => importOnnx(torchConv())).toThrow(OnnxError);
    expect(() => importOnnx(torchConv())).toThrow(/reads NCHW.*x\.permute\(0, 3, 1, 2\)/);
  });

  it("reads a Conv between NHWC ↔ NCHW Transposes, PyTorch's symmetric pads where they equal TensorFlow's 'same'", () => {
    const bytes = torchConv((m) => {
      m.graph!.node = [
        { op_type: "Transpose", input: ["input"], output: ["t"], attribute: [{ name: "perm", type: 7, ints: [0, 3, 1, 2] }] },
        { ...m.graph!.node![0]!, input: ["t", "w"], output: ["c"] },
        { op_type: "Transpose", input: ["c"], output: ["output"], attribute: [{ name: "perm", type: 7, ints: [0, 2, 3, 1] }] },
      ];
      m.graph!.input = [{ name: "input", type: dims(["N", 8, 8, 1]) }];
    });
    const model = importOnnx(bytes);
    expect(model.layers.map((l) => l.plugin.name)).toEqual(["conv2d"]);
    expect(model.layers[0]!.config.padding).toBe("same");
    // float64 direct loop over the NHWC input against the OIHW weight
    const x = images(1, [8, 8, 1], 3);
    const got = predictValues(model, x, [1, 8, 8, 1]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) for (let f = 0; f < 2; f++) {
      let want = 0;
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        const [r, c] = [i + a - 1, j + b - 1];
        if (r >= 0 && r < 8 && c >= 0 && c < 8) want += x[r * 8 + c]! * ((f * 9 + a * 3 + b) / 10);
      }
      expect(got[(i * 8 + j) * 2 + f]).toBeCloseTo(want, 5);
    }
    model.dispose();
  });

  it("refuses pads that are not Neurite's 'same', and a count_include_pad average, naming the fix", () => {
    const wrap = (node: NodeProto, out: number[]) => torchConv((m) => {
      m.graph!.node = [
        { op_type: "Transpose", input: ["input"], output: ["t"], attribute: [{ name: "perm", type: 7, ints: [0, 3, 1, 2] }] },
        { ...node, input: ["t", ...(node.input ?? []).slice(1)], output: ["c"] },
        { op_type: "Transpose", input: ["c"], output: ["output"], attribute: [{ name: "perm", type: 7, ints: [0, 2, 3, 1] }] },
      ];
      m.graph!.input = [{ name: "input", type: dims(["N", 8, 8, 1]) }];
      m.graph!.output = [{ name: "output", type: dims(["N", ...out]) }];
    });
    const conv = { op_type: "Conv", input: ["x", "w"], attribute: [{ name: "kernel_shape", type: 7, ints: [3, 3] }, { name: "strides", type: 7, ints: [2, 2] }, { name: "pads", type: 7, ints: [1, 1, 1, 1] }] };
    expect(() => importOnnx(wrap(conv, [4, 4, 2]))).toThrow(/pads \[1, 1, 1, 1\] are neither "valid" \(none\) nor Neurite's "same" \(\[0, 0, 1, 1\] here/);
    const avg = { op_type: "AveragePool", input: ["x"], attribute: [{ name: "kernel_shape", type: 7, ints: [3, 3] }, { name: "pads", type: 7, ints: [1, 1, 1, 1] }, { name: "count_include_pad", type: 2, i: 1 }] };
    expect(() => importOnnx(wrap(avg, [8, 8, 1]))).toThrow(/count_include_pad = 1/);
  });

  it("refuses an NCHW output and a Flatten of NCHW order", () => {
    const open = torchConv((m) => {
      m.graph!.node = [
        { op_type: "Transpose", input: ["input"], output: ["t"], attribute: [{ name: "perm", type: 7, ints: [0, 3, 1, 2] }] },
        { ...m.graph!.node![0]!, input: ["t", "w"], output: ["output"] },
      ];
      m.graph!.input = [{ name: "input", type: dims(["N", 8, 8, 1]) }];
    });
    expect(() => importOnnx(open)).toThrow(/is in NCHW order.*Transpose \(perm \[0, 2, 3, 1\]\)/);
    const flat = torchConv((m) => {
      m.graph!.node = [
        { op_type: "Transpose", input: ["input"], output: ["t"], attribute: [{ name: "perm", type: 7, ints: [0, 3, 1, 2] }] },
        { ...m.graph!.node![0]!, input: ["t", "w"], output: ["c"] },
        { op_type: "Flatten", input: ["c"], output: ["output"], attribute: [{ name: "axis", type: 2, i: 1 }] },
      ];
      m.graph!.input = [{ name: "input", type: dims(["N", 8, 8, 1]) }];
      m.graph!.output = [{ name: "output", type: dims(["N", 128]) }];
    });
    expect(() => importOnnx(flat)).toThrow(/Flatten reads the NCHW output of a conv block/);
  });
});
