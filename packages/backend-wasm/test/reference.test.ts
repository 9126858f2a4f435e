import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Tensor, applyActivation, resolveActivation, setBackend, sum, tensor, use, valueAndGradOf } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { backends, close } from "./helpers.js";

// the PyTorch reference values, copied into the repository (fixtures/reference/README.md)
const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

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
  /** elementwise cases: the derivative itself (the VJP with g = 1) */
  dydx64?: Num[];
  /** prelu: the gradient of its weight */
  grad_weight64?: Num[];
  grad_weight_shape?: number[];
  /** other accepted values at a flat index; each entry is a list */
  alternatives?: Record<string, { y?: Num[]; grad?: Num[] }>;
}

const num = (v: Num): number => (typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v === "-0" ? -0 : Number(v));
// PyTorch names → Neurite names, in one table
const NAMES: Record<string, string> = { leaky_relu: "leakyRelu", hardsigmoid: "hardSigmoid", hardswish: "hardSwish", hardtanh: "hardTanh", log_softmax: "logSoftmax", logsigmoid: "logSigmoid" };
const PARAMS: Record<string, string> = { negative_slope: "alpha", min_val: "minVal", max_val: "maxVal", weight: "alpha" };
type Field = "y64" | "grad64" | "dydx64" | "grad_weight64";

use(reluFamily, sigmoidFamily, smoothFamily, softmaxFamily);
await backends();
const cases = (JSON.parse(readFileSync(REFERENCE, "utf8")) as { cases: Case[] }).cases;
/** How many values of each field were compared, over the whole file: a case with nothing to compare is a failure. */
const compared: Record<Field, number> = { y64: 0, grad64: 0, dydx64: 0, grad_weight64: 0 };

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
    const alpha = name === "prelu" ? tensor(weight ?? [params.alpha as number]) : undefined;
    const f = (t: Tensor, w: Tensor | undefined = alpha): Tensor => applyActivation(t, spec, w ? { alpha: w } : {});
    const atolY = c.op === "gelu" && c.params?.approximate !== "tanh" ? 5e-7 : 1e-7;
    const bad: string[] = [];
    /** Every accepted value at index i: the reference, then the file's alternatives (mapped by `fromAlt`). */
    const accepted = (e: number, i: number, key: "y" | "grad", fromAlt: (a: number) => number = (a) => a): number[] =>
      [e, ...(c.alternatives?.[String(i)]?.[key] ?? []).map((a) => fromAlt(num(a)))];
    const check = (field: Field, actual: ArrayLike<number>, expected: Num[], rtol: number, atol: (i: number) => number, key?: "y" | "grad", fromAlt?: (a: number, i: number) => number): void => {
      expect(actual.length, `${field}: ${actual.length} values computed, ${expected.length} expected`).toBe(expected.length);
      expected.map(num).forEach((e, i) => {
        const ok = key ? accepted(e, i, key, fromAlt && ((a) => fromAlt(a, i))) : [e];
        if (!ok.some((v) => close(actual[i]!, v, rtol, atol(i)))) bad.push(`${field}[${i}] (x=${num(c.x[i]!)}): got ${actual[i]}, want ${e}`);
      });
      compared[field] += expected.length;
    };

    const total = (): number => Object.values(compared).reduce((a, b) => a + b, 0);
    const before = total();
    if (c.y64) check("y64", f(x).dataSync(), c.y64, 1e-6, () => atolY, "y");
    if (c.grad64 || c.grad_weight64) {
      // a gradient needs its upstream g: a case without it is malformed, not one to skip
      expect(c.g, `${c.id}: grad64/grad_weight64 without g`).toBeDefined();
      const g = tensor(new Float32Array(c.g!.map(num)), c.shape);
      const wrt = alpha ? [x, alpha] : [x];
      const grads = valueAndGradOf(() => sum(f(x, alpha).mul(g)), wrt).grads;
      const gAt = (i: number): number => num(c.g![i]!);
      if (c.grad64) check("grad64", grads[0]!.dataSync(), c.grad64, 1e-5, (i) => (c.kind === "last_axis" ? 1e-6 : 1e-6 * Math.max(1, Math.abs(gAt(i)))), "grad");
      if (c.grad_weight64) {
        expect(alpha, `${c.id}: grad_weight64 on an activation without a weight`).toBeDefined();
        // a sum over every element: its tolerance scales with the sum of |g| it accumulates
        const scale = c.g!.reduce<number>((s, v) => s + Math.abs(num(v)), 0);
        check("grad_weight64", grads[1]!.dataSync(), c.grad_weight64, 1e-5, () => 1e-6 * Math.max(1, scale));
      }
    }
    if (c.dydx64) {
      expect(c.kind, `${c.id}: dydx64 is defined for elementwise cases only`).toBe("elementwise");
      const dydx = valueAndGradOf(() => sum(f(x, alpha)), [x]).grads[0]!.dataSync();
      // an alternative given for the VJP g·f'(x) is an alternative for f'(x) once divided by g
      check("dydx64", dydx, c.dydx64, 1e-5, () => 1e-6, "grad", (a, i) => (c.g ? a / num(c.g[i]!) : a));
    }
    expect(total(), `${c.id}: the case has none of y64, grad64, dydx64, grad_weight64`).toBeGreaterThan(before);
    expect(bad.slice(0, 6)).toEqual([]);
  });

  it("compared every kind of value the file holds (forward, VJP, derivative, prelu's weight gradient)", () => {
    const expectedCount = (field: Field): number => cases.reduce((n, c) => n + (c[field]?.length ?? 0), 0);
    for (const field of ["y64", "grad64", "dydx64", "grad_weight64"] as const) {
      expect(expectedCount(field), `the fixture holds no ${field}`).toBeGreaterThan(0);
      expect(compared[field], field).toBe(expectedCount(field));
    }
  });
});
