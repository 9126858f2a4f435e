import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuBackend } from "@neurite/backend-cpu";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { setBackend, use } from "@neurite/core";
import { importOnnx } from "@neurite/onnx";
import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";

describe("export --out model.onnx", () => {
  it("trains the Iris classifier and writes an ONNX file that imports as the same network", async () => {
    const dir = await mkdtemp(join(tmpdir(), "neurite-example-onnx-"));
    try {
      const out = join(dir, "iris.onnx");
      const r = await cli(["export", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const accuracy = Number(/held-out accuracy ([\d.]+) %/.exec(r.stdout)?.[1]);
      expect(accuracy).toBeGreaterThanOrEqual(90);
      use(cpuBackend, reluFamily, softmaxFamily);
      await setBackend("cpu");
      const model = importOnnx(await readFile(out));
      expect(model.layers.map((l) => `${l.plugin.name}:${String(l.config.units)}`)).toEqual(["dense:16", "dense:3"]);
      expect(model.inputShape).toEqual([4]);
      model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an opset outside 13–21 before training, as a usage error", async () => {
    const r = await cli(["export", "--out", join(tmpdir(), "never.onnx"), "--opset", "9"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/The opset must be an integer from 13 to 21/);
  });
});
