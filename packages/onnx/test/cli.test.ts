import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { loadModelFromDir, saveModelToDir, sequential, setBackend, use } from "@neurite/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli-main.js";
import { onnxActivations } from "../src/index.js";
import { encodeModel } from "../src/proto.js";
import { mismatches, predictValues, runOrt, seededInputs } from "./helpers.js";

use(reluFamily, softmaxFamily, onnxActivations);

const work = mkdtempSync(join(tmpdir(), "neurite-onnx-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).pathname;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("neurite-onnx", () => {
  beforeAll(async () => {
    await setBackend("cpu");
  });

  it("export writes a file that ONNX Runtime runs like the saved model predicts", async () => {
    const model = sequential([{ type: "dense", units: 8, activation: "relu", inputShape: [3] }, { type: "dense", units: 2, activation: "softmax" }], { seed: 1 });
    saveModelToDir(model, join(work, "saved"));
    const r = await cli("export", join(work, "saved"), join(work, "model.onnx"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*model\.onnx .*opset 17.*dense\(8, relu\) → dense\(2, softmax\)/);
    const x = seededInputs(30, 3);
    expect(mismatches(await runOrt(readFileSync(join(work, "model.onnx")), x, [10, 3]), predictValues(model, x, [10, 3]))).toEqual([]);
    model.dispose();
  });

  it("import saves a model directory that loads and reproduces PyTorch", async () => {
    const r = await cli("import", fixture("torch-mlp-opset17.onnx"), join(work, "from-torch"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("onnxFormula"); // GELU, exported by torch as Div/Erf/Add/Mul
    const f = JSON.parse(readFileSync(fixture("torch-mlp-opset17.json"), "utf8")) as { input: { shape: number[]; data: number[] }; output: { data: number[] } };
    const model = loadModelFromDir(join(work, "from-torch"));
    expect(mismatches(predictValues(model, Float32Array.from(f.input.data), f.input.shape), f.output.data)).toEqual([]);
    model.dispose();
  });

  it("import registers @neurite/layers-conv when installed, so an NHWC conv graph becomes a model directory", async () => {
    const dims = (d: (number | string)[]) => ({ tensor_type: { elem_type: 1, shape: { dim: d.map((v) => (typeof v === "number" ? { dim_value: v } : { dim_param: v })) } } });
    const perm = (p: number[]) => [{ name: "perm", type: 7, ints: p }];
    writeFileSync(join(work, "conv-nhwc.onnx"), encodeModel({
      ir_version: 8, opset_import: [{ domain: "", version: 17 }],
      graph: {
        name: "nhwc",
        node: [
          { op_type: "Transpose", input: ["input"], output: ["t"], attribute: perm([0, 3, 1, 2]) },
          { op_type: "Conv", input: ["t", "w", "b"], output: ["c"], attribute: [{ name: "kernel_shape", type: 7, ints: [1, 1] }] },
          { op_type: "Transpose", input: ["c"], output: ["output"], attribute: perm([0, 2, 3, 1]) },
        ],
        initializer: [{ name: "w", data_type: 1, dims: [1, 1, 1, 1], float_data: [2] }, { name: "b", data_type: 1, dims: [1], float_data: [0.5] }],
        input: [{ name: "input", type: dims(["N", 3, 3, 1]) }],
        output: [{ name: "output", type: dims(["N", 3, 3, 1]) }],
      },
    }));
    const r = await cli("import", join(work, "conv-nhwc.onnx"), join(work, "from-conv"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const model = loadModelFromDir(join(work, "from-conv"));
    const x = seededInputs(9, 4).map((v) => (Number.isFinite(v) ? v : 0));
    const want = Array.from(x, (v) => Math.fround(2 * v) + 0.5);
    expect(mismatches(predictValues(model, x, [1, 3, 3, 1]), want)).toEqual([]);
    model.dispose();
  });

  it("check lists the operators, says they are supported and how the file imports", async () => {
    const r = await cli("check", fixture("torch-flatten-layernorm-opset17.onnx"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/LayerNormalization\s+×1\s+supported/);
    expect(r.out).toMatch(/imports as: flatten → dense\(16\) → layerNormalization → activation\(relu\) → dense\(5, logSoftmax\)/);
  });

  it("check names unsupported operators and where they are, and exits 1", async () => {
    const dims = (d: number[]) => ({ tensor_type: { elem_type: 1, shape: { dim: d.map((v) => ({ dim_value: v })) } } });
    const bytes = encodeModel({
      ir_version: 8, opset_import: [{ domain: "", version: 17 }],
      graph: {
        name: "deconv", node: [{ op_type: "ConvTranspose", name: "deconv1", input: ["input", "w"], output: ["output"] }],
        initializer: [{ name: "w", data_type: 1, dims: [1, 1, 1, 1], float_data: [1] }],
        input: [{ name: "input", type: dims([1, 1, 4, 4]) }], output: [{ name: "output", type: dims([1, 1, 4, 4]) }],
      },
    });
    writeFileSync(join(work, "deconv.onnx"), bytes);
    const r = await cli("check", join(work, "deconv.onnx"));
    expect(r.out).toMatch(/ConvTranspose\s+×1\s+NOT supported \(node 0 \(ConvTranspose "deconv1"\)\)/);
    expect(r.err).toMatch(/operators importOnnx does not support: node 0 \(ConvTranspose "deconv1"\)/);
    expect(r.code).toBe(1);
  });

  it("clear errors: not an ONNX file, missing paths, a bad opset, an unknown command", async () => {
    writeFileSync(join(work, "junk.onnx"), "this is not protobuf \u0000\u00ff");
    const junk = await cli("check", join(work, "junk.onnx"));
    expect([junk.code, junk.err]).toEqual([1, expect.stringMatching(/not an ONNX model/) as unknown]);
    const missing = await cli("export", join(work, "nowhere"), join(work, "x.onnx"));
    expect([missing.code, missing.err]).toEqual([2, expect.stringMatching(/no saved model at .*nowhere/) as unknown]);
    const noFile = await cli("import", join(work, "nowhere.onnx"), join(work, "out"));
    expect([noFile.code, noFile.err]).toEqual([2, expect.stringMatching(/file not found: .*nowhere\.onnx/) as unknown]);
    const opset = await cli("export", join(work, "saved"), join(work, "y.onnx"), "--opset", "99");
    expect([opset.code, opset.err]).toEqual([1, expect.stringMatching(/opset 99 is not supported; use an integer from 13 to 21/) as unknown]);
    const unknown = await cli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
  });
});
