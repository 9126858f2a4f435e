/**
 * CNNs exported by torch.onnx.export (PyTorch 1.13, `scripts/torch-cnn.py`; see test/fixtures/README.md), imported
 * through the package's public API the way its README tells a PyTorch user to: the model's forward starts with
 * x.permute(0, 3, 1, 2), so the file takes NHWC images, Neurite's layout.
 *
 * Tolerance: the "MLP z, a, loss" row of fixtures/reference/README.md (rtol 1e-5, atol 1e-6, |a − e| ≤
 * max(rtol·|e|, atol)) against PyTorch's float64 run of the same float32 weights and inputs. A CNN forward is the
 * same float32 computation as an MLP's (sums of products, then activations), the sums here are at most 150 terms
 * long, and the script checks that PyTorch's own float32 output meets it.
 */
import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { type Sequential, use } from "@neurite/core";
import { convLayers } from "@neurite/layers-conv";
import { describe, expect, it } from "vitest";
import { OnnxError, decodeOnnx, exportOnnx, graphOperators, importOnnx } from "../src/index.js";
import { forEachBackend, mismatches, predictValues, runOrt } from "./helpers.js";

use(reluFamily, softmaxFamily, convLayers);

interface Fixture {
  readonly model: string;
  readonly torch: string;
  readonly opset: number;
  readonly tolerance: { readonly rtol: number; readonly atol: number };
  readonly input: { readonly shape: number[]; readonly data: number[] };
  readonly output: { readonly shape: number[]; readonly y64: number[]; readonly y32: number[] };
}

const dir = new URL("fixtures/", import.meta.url);
function load(name: string): { fixture: Fixture; bytes: Uint8Array; x: Float32Array } {
  const fixture = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8")) as Fixture;
  return { fixture, bytes: readFileSync(new URL(fixture.model, dir)), x: Float32Array.from(fixture.input.data) };
}

/** fixtures/reference/README.md's comparison rule: |a − e| ≤ max(rtol·|e|, atol); the fixtures hold no non-finite values. */
function offReference(got: ArrayLike<number>, want: readonly number[], { rtol, atol }: Fixture["tolerance"]): string[] {
  if (got.length !== want.length) return [`length ${got.length} vs ${want.length}`];
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const [a, e] = [got[i]!, want[i]!];
    if (!(Math.abs(a - e) <= Math.max(rtol * Math.abs(e), atol)) && bad.length < 5) bad.push(`[${i}]: got ${a}, want ${e} (|Δ| ${Math.abs(a - e)})`);
  }
  return bad;
}

/** Each layer as type, type:activation, with the options that say how PyTorch's operators were read. */
function summary(model: Sequential): string[] {
  return model.layers.map((l) => {
    const act = l.config.activation as { plugin: { name: string } } | undefined;
    const name = act && act.plugin.name !== "linear" ? `${l.plugin.name}:${act.plugin.name}` : l.plugin.name;
    const c = l.config as { strides?: number[]; dilation?: number[]; groups?: number; padding?: string };
    return l.plugin.name === "conv2d" ? `${name} s${c.strides!.join("")} d${c.dilation!.join("")} g${c.groups} ${c.padding}` : c.padding ? `${name} ${c.padding}` : name;
  });
}

const cases = [
  {
    name: "torch-cnn-gap-opset17",
    // Conv + BatchNorm2d folded by the exporter, a BatchNorm2d of its own, depthwise, stride 2, dilation 2,
    // AvgPool2d as Pad of zeros + AveragePool, AdaptiveAvgPool2d(1) + Flatten, Linear, Softmax
    operators: ["Transpose", "Conv", "Relu", "MaxPool", "BatchNormalization", "Constant", "Pad", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm", "Softmax"],
    layers: [
      "conv2d:relu s11 d11 g1 same", "maxPool2d valid", "batchNormalization", "conv2d:relu s11 d11 g8 same", "conv2d:relu s22 d11 g1 same",
      "conv2d:relu s11 d22 g1 same", "avgPool2d valid", "globalAveragePooling2d", "dense:softmax",
    ],
  },
  {
    name: "torch-cnn-flatten-opset13",
    // an untrained BatchNorm2d whose running statistics reach it through Identity nodes, pooling with padding,
    // a permute back to channels last, then Flatten and Linear (logits)
    operators: ["Identity", "Transpose", "Conv", "LeakyRelu", "BatchNormalization", "MaxPool", "AveragePool", "Flatten", "Gemm"],
    layers: ["conv2d:leakyRelu s11 d11 g1 same", "batchNormalization", "maxPool2d same", "avgPool2d same", "flatten", "dense"],
  },
] as const;

describe("the PyTorch CNN fixtures", () => {
  it("are what torch.onnx.export writes: NHWC input, a Transpose to NCHW, the operators named", () => {
    for (const c of cases) {
      const { fixture, bytes } = load(c.name);
      expect(fixture.torch).toMatch(/^1\.13/);
      const model = decodeOnnx(bytes);
      expect(model.opset_import?.[0]?.version).toBe(fixture.opset);
      expect(new Set(graphOperators(model).map((o) => o.opType))).toEqual(new Set(c.operators));
      const input = model.graph!.input!.find((i) => i.name === "input")!;
      expect(input.type!.tensor_type!.shape!.dim!.slice(1).map((d) => Number(d.dim_value))).toEqual(fixture.input.shape.slice(1));
    }
  });

  it("ONNX Runtime runs PyTorch's own file to PyTorch's float64 outputs (the fixture is self-consistent)", async () => {
    for (const c of cases) {
      const { fixture, bytes, x } = load(c.name);
      expect(offReference(await runOrt(bytes, x, fixture.input.shape), fixture.output.y64, fixture.tolerance)).toEqual([]);
      expect(offReference(Float32Array.from(fixture.output.y32), fixture.output.y64, fixture.tolerance)).toEqual([]);
    }
  });
});

forEachBackend("PyTorch-exported CNNs", () => {
  for (const c of cases) {
    it(`${c.name}: importOnnx reads every layer, and predict reproduces PyTorch's outputs`, () => {
      const { fixture, bytes, x } = load(c.name);
      const model = importOnnx(bytes);
      expect(summary(model)).toEqual(c.layers);
      expect(model.outputShape).toEqual(fixture.output.shape.slice(1));
      expect(offReference(predictValues(model, x, fixture.input.shape), fixture.output.y64, fixture.tolerance)).toEqual([]);
      model.dispose();
    });

    it(`${c.name}: Neurite's re-export of the imported model runs in ONNX Runtime with the same outputs`, async () => {
      const { fixture, bytes, x } = load(c.name);
      const model = importOnnx(bytes);
      const served = await runOrt(exportOnnx(model), x, fixture.input.shape);
      expect(offReference(served, fixture.output.y64, fixture.tolerance)).toEqual([]);
      expect(mismatches(served, predictValues(model, x, fixture.input.shape))).toEqual([]);
      model.dispose();
    });
  }
});

describe("PyTorch CNNs importOnnx refuses, naming the operator, the node and the fix", () => {
  const refused = (name: string): Uint8Array => readFileSync(new URL(`${name}.onnx`, dir));

  it("AvgPool2d(padding=1) with PyTorch's default count_include_pad=True: a Pad the average counts", () => {
    const bytes = refused("torch-cnn-refused-count-include-pad");
    expect(() => importOnnx(bytes)).toThrow(OnnxError);
    expect(() => importOnnx(bytes)).toThrow(/node \d+ \(Pad "\/body\/body\.1\/Pad"\): Pad with pads \[0, 0, 1, 1, 0, 0, 1, 1\] has no Neurite layer.*count_include_pad=False/);
  });

  it("x.view(x.size(0), -1) with a dynamic batch: the Shape / Gather / Concat that compute the Reshape's target", () => {
    const bytes = refused("torch-cnn-refused-view");
    expect(() => importOnnx(bytes)).toThrow(OnnxError);
    expect(() => importOnnx(bytes)).toThrow(/does not support: node \d+ \(Shape "\/Shape"\), node \d+ \(Gather "\/Gather"\), node \d+ \(Unsqueeze "\/Unsqueeze"\), node \d+ \(Concat "\/Concat"\)/);
    expect(() => importOnnx(bytes)).toThrow(/torch\.flatten\(x, 1\)/);
  });
});
