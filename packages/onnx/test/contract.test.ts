import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { BINARY_OPS, UNARY_OPS, defineActivation, defineLayer, fromValues, memory, sequential, setBackend, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { BINARY_LOWERING, OnnxError, UNARY_LOWERING, decodeOnnx, exportOnnx, importOnnx } from "../src/index.js";
import { encodeModel, type ModelProto } from "../src/proto.js";
import { descriptorOf } from "../scripts/generate-descriptor.mjs";
import { ONNX_DESCRIPTOR } from "../src/onnx-descriptor.js";
import { random } from "./helpers.js";

use(reluFamily, smoothFamily, softmaxFamily);
beforeAll(async () => {
  await setBackend("cpu");
});

describe("the lowering table", () => {
  it("has a lowering for every primitive of the expression language (a new primitive without one fails here)", () => {
    expect(UNARY_OPS.filter((op) => typeof (UNARY_LOWERING as Record<string, unknown>)[op] !== "function")).toEqual([]);
    expect(BINARY_OPS.filter((op) => typeof (BINARY_LOWERING as Record<string, unknown>)[op] !== "function")).toEqual([]);
  });

  it("the shipped descriptor is the official onnx.proto, parsed by protobufjs", () => {
    const proto = readFileSync(new URL("../proto/onnx.proto", import.meta.url), "utf8");
    expect(ONNX_DESCRIPTOR).toEqual(descriptorOf(proto));
  });
});

const dims = (d: (number | string)[]) => ({ tensor_type: { elem_type: 1, shape: { dim: d.map((v) => (typeof v === "number" ? { dim_value: v } : { dim_param: v })) } } });

describe("exportOnnx", () => {
  it("writes one input and one output with a symbolic batch axis, and the plugins' identities in metadata_props", () => {
    const model = sequential([{ type: "dense", units: 4, activation: { name: "elu", alpha: 0.5 }, inputShape: [3] }, { type: "dense", units: 2, activation: "gelu" }]);
    const proto = decodeOnnx(exportOnnx(model, { opset: 20 }));
    expect(proto.graph?.input?.map((i) => i.name)).toEqual(["input"]);
    expect(proto.graph?.output?.map((i) => i.name)).toEqual(["output"]);
    expect(proto.graph?.input?.[0]?.type?.tensor_type?.shape?.dim?.map((d) => d.dim_param ?? d.dim_value)).toEqual(["batch", 3]);
    expect(proto.opset_import).toEqual([{ domain: "", version: 20 }]);
    const meta = new Map((proto.metadata_props ?? []).map((p) => [p.key, p.value ?? ""]));
    expect(meta.get("neurite.version")).toMatch(/^\d+\.\d+\.\d+/);
    const layers = JSON.parse(meta.get("neurite.layers") ?? "") as { activation: { package: string; name: string; version: string; params: object; onnx: string } }[];
    expect(layers.map((l) => l.activation)).toEqual([
      { package: "@neurite/activations-relu", name: "elu", version: reluFamily.version, params: { alpha: 0.5 }, onnx: "Elu" },
      { package: "@neurite/activations-smooth", name: "gelu", version: smoothFamily.version, params: { approximate: "none" }, onnx: "Gelu" },
    ]);
    // opset 17 has no Gelu operator: the formula is lowered instead
    const at17 = decodeOnnx(exportOnnx(model));
    expect(at17.graph?.node?.map((n) => n.op_type)).not.toContain("Gelu");
    expect(at17.graph?.node?.map((n) => n.op_type)).toContain("Erf");
    model.dispose();
  });

  it("refuses what it cannot write, naming the layer and what is missing, and writes nothing", () => {
    const scale = defineLayer<Record<string, never>>({
      name: "scale", package: "my-layers", version: "1.0.0", description: "x·2",
      configure: () => ({}), build: (_c, shape) => ({ outputShape: shape, call: (x) => x.mul(2) }),
    });
    const custom = sequential([{ type: "dense", units: 2, inputShape: [3] }, { type: scale }]);
    expect(() => exportOnnx(custom)).toThrow(/layer scale1 is a "scale" layer from my-layers, which has no ONNX export; @neurite\/onnx exports dense, activation, dropout, flatten, layerNormalization/);
    const axisAct = defineActivation({
      type: "axis", name: "sparsemax", family: "custom", package: "my-acts", version: "1.0.0", description: "sparsemax", params: {},
      meta: { range: [0, 1], monotonic: false, smoothAtZero: false },
      forward: (x) => x, backward: (g) => g, reference: (s) => [...s],
    });
    const withAxis = sequential([{ type: "activation", activation: axisAct, inputShape: [3] }]);
    expect(() => exportOnnx(withAxis)).toThrow(/layer activation1: activation "sparsemax" \(my-acts\) normalises over an axis and has no ONNX form/);
    const ln = sequential([{ type: "layerNormalization", inputShape: [3] }]);
    expect(() => exportOnnx(ln, { opset: 16 })).toThrow(/opset 16 is not supported|needs ONNX opset 17/);
    expect(() => exportOnnx(ln, { opset: 13 })).toThrow(/layer layerNormalization1: layerNormalization needs ONNX opset 17 or later/);
    expect(() => exportOnnx(ln, { opset: 12 })).toThrow(/opset 12 is not supported; use an integer from 13 to 21/);
    expect(() => exportOnnx(ln, { opsets: 17 } as never)).toThrow(/unknown option "opsets"/);
    const unbuilt = sequential([{ type: "dense", units: 2 }]);
    expect(() => exportOnnx(unbuilt)).toThrow(OnnxError);
    for (const m of [custom, withAxis, ln, unbuilt]) m.dispose();
  });
});

/** A one-Gemm model, with hooks to damage it. */
function gemmModel(edit: (m: ModelProto) => void = () => {}): Uint8Array {
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      node: [{ op_type: "Gemm", name: "fc", input: ["input", "w", "b"], output: ["output"], attribute: [{ name: "transB", type: 2, i: 1 }] }],
      initializer: [
        { name: "w", data_type: 1, dims: [2, 3], float_data: [1, 2, 3, 4, 5, 6] },
        { name: "b", data_type: 1, dims: [2], float_data: [0.5, -0.5] },
      ],
      input: [{ name: "input", type: dims(["N", 3]) }],
      output: [{ name: "output", type: dims(["N", 2]) }],
    },
  };
  edit(model);
  return encodeModel(model);
}

describe("importOnnx on untrusted files", () => {
  it("reads Gemm with transB = 1 as dense with the transposed kernel", () => {
    const m = importOnnx(gemmModel());
    expect(Array.from(m.weights[0]!.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(m.weights[1]!.dataSync())).toEqual([0.5, -0.5]);
    m.dispose();
  });

  it("refuses damaged files with an OnnxError before allocating, and leaks nothing", () => {
    const before = memory().tensors;
    const bytes = gemmModel();
    const cases: [Uint8Array | ArrayBuffer, RegExp][] = [
      [bytes.slice(0, bytes.length - 7), /not an ONNX model|do not build|not a weight|no graph|operators/],
      [new Uint8Array([0xff, 0xff, 0xff, 0xff]), /not an ONNX model/],
      [gemmModel((m) => { m.graph!.initializer![0]!.dims = [2e9, 2e9]; }), /more than \d+ elements, more than the file's size allows/],
      [gemmModel((m) => { m.graph!.initializer![0]!.float_data = [1, 2, 3]; }), /need 6 values, the file holds 3/],
      [gemmModel((m) => { m.graph!.initializer![0]!.float_data = []; m.graph!.initializer![0]!.raw_data = new Uint8Array(8); }), /need 24 bytes of raw data, the file holds 8/],
      [gemmModel((m) => { m.graph!.initializer![0]!.external_data = [{ key: "location", value: "weights.bin" }]; m.graph!.initializer![0]!.data_location = 1; }), /external file/],
      [gemmModel((m) => { m.graph!.initializer![0]!.dims = [-2, 3]; }), /dimension -2 is not a size/],
      [gemmModel((m) => { m.opset_import = [{ domain: "", version: 9 }]; }), /opset 9 of the default domain; importOnnx reads opsets 13 to 21/],
      [gemmModel((m) => { m.graph!.node![0]!.op_type = "ConvTranspose"; }), /does not support: node 0 \(ConvTranspose "fc"\)/],
      [gemmModel((m) => { m.graph!.input![0]!.type = dims(["N", "F"]); }), /needs a fixed size on every axis but the batch axis; axis 1 is F/],
      [gemmModel((m) => { m.graph!.initializer![0]!.dims = [2, 4]; m.graph!.initializer![0]!.float_data = [1, 2, 3, 4, 5, 6, 7, 8]; }), /its weight has 4 input features, the value reaching it has 3/],
    ];
    for (const [b, message] of cases) {
      let error: unknown;
      try {
        importOnnx(b).dispose();
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(OnnxError);
      expect((error as Error).message).toMatch(message);
    }
    expect(() => importOnnx(bytes, { maxBytes: 10 })).toThrow(/more than the cap of 10/);
    expect(memory().tensors).toBe(before);
  });
});

describe("importOnnx reads what Keras → tf2onnx writes for Dense models", () => {
  it("MatMul + Add with weights as initializers and a Constant-node bias, Relu, Softmax: the float64 reference agrees", () => {
    const w1 = [0.5, -1, 2, 0.25, -0.75, 1.5]; // [3, 2], as Keras stores a Dense kernel
    const w2 = [1, -2, 0.5, 3]; // [2, 2]
    const bytes = encodeModel({
      ir_version: 8, opset_import: [{ domain: "", version: 15 }],
      graph: {
        name: "keras",
        node: [
          { op_type: "Constant", output: ["b1"], attribute: [{ name: "value", type: 4, t: { dims: [2], data_type: 1, float_data: [0.1, -0.2] } }] },
          { op_type: "MatMul", name: "dense/MatMul", input: ["dense_input", "w1"], output: ["m1"] },
          { op_type: "Add", name: "dense/BiasAdd", input: ["m1", "b1"], output: ["z1"] },
          { op_type: "Relu", name: "dense/Relu", input: ["z1"], output: ["a1"] },
          { op_type: "MatMul", name: "dense_1/MatMul", input: ["a1", "w2"], output: ["m2"] },
          { op_type: "Add", name: "dense_1/BiasAdd", input: ["m2", "b2"], output: ["z2"] },
          { op_type: "Softmax", name: "dense_1/Softmax", input: ["z2"], output: ["dense_1"], attribute: [{ name: "axis", type: 2, i: -1 }] },
        ],
        initializer: [
          { name: "w1", data_type: 1, dims: [3, 2], float_data: w1 },
          { name: "w2", data_type: 1, dims: [2, 2], float_data: w2 },
          { name: "b2", data_type: 1, dims: [2], float_data: [0, 0.3] },
        ],
        input: [{ name: "dense_input", type: dims(["unk__6", 3]) }],
        output: [{ name: "dense_1", type: dims(["unk__7", 2]) }],
      },
    });
    const model = importOnnx(bytes);
    const xs = [1, 2, 3, -1, 0.5, -2];
    const x = fromValues(Float32Array.from(xs), [2, 3]);
    const y = model.predict(x);
    const got = Array.from(y.dataSync());
    const want: number[] = [];
    for (let r = 0; r < 2; r++) {
      const h = [0, 1].map((j) => Math.max(0, [0, 1, 2].reduce((s, k) => s + xs[r * 3 + k]! * w1[k * 2 + j]!, 0) + [0.1, -0.2][j]!));
      const z = [0, 1].map((j) => h[0]! * w2[j]! + h[1]! * w2[2 + j]! + [0, 0.3][j]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      want.push(...e.map((v) => v / (e[0]! + e[1]!)));
    }
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want[i]!)));
    expect(model.layers.map((l) => l.plugin.name)).toEqual(["dense", "dense"]);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });
});

describe("importOnnx under fuzzing", () => {
  it("a seeded run of mutated files: each is imported or refused with an OnnxError (never another error, never a leak)", async () => {
    const { exportOnnx: exp } = await import("../src/index.js");
    const base = sequential([{ type: "dense", units: 5, activation: "gelu", inputShape: [4] }, { type: "layerNormalization" }, { type: "dense", units: 3, activation: "softmax" }], { seed: 2 });
    const bytes = exp(base);
    base.dispose();
    const before = memory().tensors;
    const r = random(99);
    let imported = 0;
    let refused = 0;
    for (let k = 0; k < 400; k++) {
      const copy = bytes.slice();
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits; e++) copy[Math.floor(r() * copy.length)] = Math.floor(r() * 256);
      const cut = r() < 0.2 ? copy.slice(0, Math.floor(r() * copy.length)) : copy;
      try {
        importOnnx(cut).dispose();
        imported++;
      } catch (e) {
        if (!(e instanceof OnnxError)) throw new Error(`mutation ${k} threw ${String(e)}`, { cause: e });
        refused++;
      }
    }
    expect(imported + refused).toBe(400);
    expect(refused).toBeGreaterThan(0);
    expect(memory().tensors).toBe(before);
  });
});
