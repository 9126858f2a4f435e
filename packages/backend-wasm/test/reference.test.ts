import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Tensor, applyActivation, resolveActivation, setBackend, sum, tensor, use, valueAndGrad } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { backends, close } from "./helpers.js";

// the PyTorch reference values (shared/ lies beside the repository)
const REFERENCE = new URL("../../../../shared/reference/activations.json", import.meta.url);

type Num = number | string;
interface Case {
  id: string;
  op: string;
  kind: string;
  params?: Record<string, number | string | number[]>;
  shape: number[];
  x: Num[];
  g?: Num[];
  y64?: Num[];
  grad64?: Num[];
  alternatives?: Record<string, { y?: Num; grad?: Num }>;
}

const num = (v: Num): number => (typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v === "-0" ? -0 : Number(v));
// PyTorch names → Neurite names, in one table
const NAMES: Record<string, string> = { leaky_relu: "leakyRelu", hardsigmoid: "hardSigmoid", hardswish: "hardSwish", hardtanh: "hardTanh", log_softmax: "logSoftmax", logsigmoid: "logSigmoid" };
const PARAMS: Record<string, string> = { negative_slope: "alpha", min_val: "minVal", max_val: "maxVal", weight: "alpha" };

use(reluFamily, sigmoidFamily, smoothFamily, softmaxFamily);
await backends();
const cases = (JSON.parse(readFileSync(REFERENCE, "utf8")) as { cases: Case[] }).cases;

describe("activations.json on the wasm backend", () => {
  it.each(cases.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
    await setBackend("wasm");
    const name = NAMES[c.op] ?? c.op;
    const params: Record<string, number | string> = {};
    let weight: number[] | undefined;
    for (const [k, v] of Object.entries(c.params ?? {})) {
      if (k === "weight_shape") continue;
      if (Array.isArray(v)) weight = v;
      else params[PARAMS[k] ?? k] = v;
    }
    const spec = resolveActivation({ name, ...params });
    const x = tensor(new Float32Array(c.x.map(num)), c.shape);
    // prelu's slope is a weight: one shared value, or one per channel of the last axis
    const weights: Record<string, Tensor> = name === "prelu" ? { alpha: tensor(weight ?? [params.alpha as number]) } : {};
    const f = (t: Tensor): Tensor => applyActivation(t, spec, weights);
    const atolY = c.op === "gelu" && c.params?.approximate !== "tanh" ? 5e-7 : 1e-7;
    const bad: string[] = [];
    const alt = (i: number, key: "y" | "grad"): number | undefined => {
      const a = c.alternatives?.[String(i)]?.[key];
      return a === undefined ? undefined : num(a);
    };
    if (c.y64) {
      const y = f(x).dataSync();
      c.y64.map(num).forEach((e, i) => {
        const a = alt(i, "y");
        if (!close(y[i]!, e, 1e-6, atolY) && !(a !== undefined && close(y[i]!, a, 1e-6, atolY))) bad.push(`y[${i}] (x=${num(c.x[i]!)}): got ${y[i]}, want ${e}`);
      });
    }
    if (c.g && c.grad64) {
      const g = tensor(new Float32Array(c.g.map(num)), c.shape);
      const grad = valueAndGrad((t: Tensor) => sum(f(t).mul(g)))(x).grads[0]!.dataSync();
      c.grad64.map(num).forEach((e, i) => {
        const atol = c.kind === "last_axis" ? 1e-6 : 1e-6 * Math.max(1, Math.abs(num(c.g![i]!)));
        const a = alt(i, "grad");
        if (!close(grad[i]!, e, 1e-5, atol) && !(a !== undefined && close(grad[i]!, a, 1e-5, atol))) bad.push(`grad[${i}] (x=${num(c.x[i]!)}): got ${grad[i]}, want ${e}`);
      });
    }
    expect(bad.slice(0, 6)).toEqual([]);
  });
});
