import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { use } from "@neurite/core";
import { expect, it } from "vitest";
import { decodeOnnx, graphOperators, importOnnx } from "../src/index.js";
import { forEachBackend, mismatches, predictValues } from "./helpers.js";

use(reluFamily, sigmoidFamily, smoothFamily, softmaxFamily);

interface Fixture {
  readonly model: string;
  readonly torch: string;
  readonly opset: number;
  readonly input: { readonly shape: number[]; readonly data: number[] };
  readonly output: { readonly shape: number[]; readonly data: number[] };
}

const dir = new URL("../fixtures/", import.meta.url);
const load = (name: string): { fixture: Fixture; bytes: Uint8Array } => {
  const fixture = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8")) as Fixture;
  return { fixture, bytes: readFileSync(new URL(fixture.model, dir)) };
};

const cases: { name: string; layers: string[]; operators: string[] }[] = [
  {
    name: "torch-mlp-opset13",
    layers: ["dense:relu", "dense:leakyRelu", "dense:elu", "dense:onnxFormula", "dense:tanh", "dense:sigmoid", "dense:softmax"],
    operators: ["Gemm", "Relu", "LeakyRelu", "Elu", "Div", "Erf", "Add", "Mul", "Tanh", "Sigmoid", "Softmax", "Constant"],
  },
  {
    name: "torch-mlp-opset17",
    layers: ["dense:relu", "dense:leakyRelu", "dense:elu", "dense:onnxFormula", "dense:tanh", "dense:sigmoid", "dense:softmax"],
    operators: ["Gemm", "Relu", "Softmax"],
  },
  { name: "torch-flatten-layernorm-opset17", layers: ["flatten", "dense", "layerNormalization", "activation:relu", "dense:logSoftmax"], operators: ["Flatten", "LayerNormalization"] },
  { name: "torch-matmul-add-opset14", layers: ["dense:tanh", "dense"], operators: ["MatMul", "Add"] },
];

it("the fixtures are what torch.onnx.export writes: Gemm with transB = 1, weights as initializers, GELU from Constant nodes", () => {
  for (const c of cases) {
    const { fixture, bytes } = load(c.name);
    const model = decodeOnnx(bytes);
    const ops = new Set(graphOperators(model).map((o) => o.opType));
    for (const op of c.operators) expect(ops, `${c.name} holds ${op}`).toContain(op);
    expect(model.opset_import?.[0]?.version).toBe(fixture.opset);
    const gemm = model.graph?.node?.find((n) => n.op_type === "Gemm");
    if (gemm) expect(gemm.attribute?.find((a) => a.name === "transB")?.i).toBe(1);
  }
});

forEachBackend("PyTorch-exported fixtures", () => {
  for (const c of cases) {
    it(`${c.name} imports and reproduces PyTorch's outputs`, () => {
      const { fixture, bytes } = load(c.name);
      const model = importOnnx(bytes);
      const summary = model.layers.map((l) => {
        const act = l.config.activation as { plugin: { name: string } } | undefined;
        return act && act.plugin.name !== "linear" ? `${l.plugin.name}:${act.plugin.name}` : l.plugin.name;
      });
      expect(summary).toEqual(c.layers);
      const got = predictValues(model, Float32Array.from(fixture.input.data), fixture.input.shape);
      expect(model.outputShape).toEqual(fixture.output.shape.slice(1));
      expect(mismatches(got, fixture.output.data)).toEqual([]);
      model.dispose();
    });
  }
});
