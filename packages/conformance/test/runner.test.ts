import { readFileSync } from "node:fs";
import { cpuBackend } from "@neurite/backend-cpu";
import { setBackend, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { beforeAll, describe, expect, it } from "vitest";
import { runActivationFile } from "@neurite/testkit";
import { hasMlpSection, runConformance } from "../src/runner.js";
import type { CaseResult } from "@neurite/testkit";
import { erfRef, sigmoidRef } from "@neurite/test-support";
import { drelu, dsigmoid, elementwiseCase, enc, relu, upstreamGradient, writeFiles } from "./fixtures.js";

const REFERENCE = new URL("../../../fixtures/reference/activations.json", import.meta.url);

beforeAll(async () => {
  use(cpuBackend, sigmoidFamily, reluFamily, softmaxFamily, smoothFamily);
  await setBackend("cpu");
});

const run = (json: unknown): Promise<CaseResult[]> => runActivationFile(json, { backends: ["cpu"], file: "test.json" });
const byId = (results: readonly CaseResult[], id: string): CaseResult => {
  const r = results.find((c) => c.id === id);
  if (!r) throw new Error(`no result for ${id}: ${JSON.stringify(results.map((c) => c.id))}`);
  return r;
};

/** A copy of a case without some of its sections. */
function omit(c: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !keys.includes(k)));
}

const SPECIALS = [0, -0, 1e-7, -1e-7, 9.99994610111476e-41, -3, 3, 88, -88, 3.3999999521443642e38, -3.3999999521443642e38, Infinity, -Infinity, NaN];

describe("activation cases", () => {
  it("passes correct cases, with NaN, ±Infinity and −0 encoded as strings", async () => {
    const results = await run({
      cases: [
        elementwiseCase("relu/special", "relu", SPECIALS, relu, drelu),
        elementwiseCase("sigmoid/special", "sigmoid", SPECIALS, sigmoidRef, dsigmoid),
      ],
    });
    expect(results.map((r) => [r.id, r.status, r.message])).toEqual([["relu/special", "pass", ""], ["sigmoid/special", "pass", ""]]);
    expect(results.every((r) => r.backend === "cpu" && r.file === "test.json" && r.maxAbsErr !== null)).toBe(true);
  });

  it("fails a case with one corrupted expected value, naming where and what", async () => {
    const c = elementwiseCase("sigmoid/grid", "sigmoid", [-2, -1, 0, 1, 2], sigmoidRef, dsigmoid);
    (c.y64 as number[])[3] = 0.75; // sigmoid(1) is 0.7311
    const r = byId(await run({ cases: [c] }), "sigmoid/grid");
    expect(r.status).toBe("fail");
    expect(r.message).toBe("y: 1 of 5 values off; at [3] x=1 expected 0.75, got 0.7310586");
    expect(r.maxAbsErr).toBeCloseTo(0.75 - sigmoidRef(1), 6);
  });

  it("fails when an infinite or NaN expectation is not met", async () => {
    const inf = elementwiseCase("relu/inf", "relu", [1, 2], relu, drelu);
    (inf.y64 as unknown[])[1] = "Infinity";
    const nan = elementwiseCase("relu/nan", "relu", [1, 2], relu, drelu);
    (nan.grad64 as unknown[])[0] = "NaN";
    const results = await run({ cases: [inf, nan] });
    expect(byId(results, "relu/inf").message).toBe("y: 1 of 2 values off; at [1] x=2 expected Infinity, got 2");
    expect(byId(results, "relu/nan").message).toBe("grad: 1 of 2 values off; at [0] x=1 expected NaN, got 1");
  });

  it("reports unknown ops, parameters and kinds as unsupported with the reason", async () => {
    const known = elementwiseCase("ok", "relu", [1], relu, drelu);
    const results = await run({
      cases: [
        { ...known, id: "rrelu/grid", op: "rrelu" },
        { ...known, id: "relu/param", params: { lower: 0.1 } },
        { ...known, id: "relu/kind", kind: "first_axis" },
        { ...known, id: "relu/axis-kind", kind: "last_axis" },
        { ...known, id: "elu/bad-alpha", op: "elu", params: { alpha: -1 } },
      ],
    });
    expect(results.map((r) => r.status)).toEqual(["unsupported", "unsupported", "unsupported", "unsupported", "unsupported"]);
    expect(byId(results, "rrelu/grid").message).toMatch(/^unknown op "rrelu"/);
    expect(byId(results, "relu/param").message).toMatch(/^unknown parameter "lower" for relu/);
    expect(byId(results, "relu/kind").message).toMatch(/^unknown kind "first_axis"/);
    expect(byId(results, "relu/axis-kind").message).toMatch(/kind "last_axis" does not fit "relu"/);
    expect(byId(results, "elu/bad-alpha").message).toMatch(/not supported by "elu".*alpha/);
  });

  it("checks what a case holds: forward only, gradient only, or the derivative only", async () => {
    const full = elementwiseCase("x", "sigmoid", [-1, 0, 0.5, 4], sigmoidRef, dsigmoid);
    const base = omit(full, ["g", "grad64", "dydx64", "y64"]);
    const forwardOnly = { ...base, id: "forward-only", y64: full.y64 };
    const gradientOnly = { ...base, id: "gradient-only", g: full.g, grad64: full.grad64 };
    const derivativeOnly = { ...base, id: "derivative-only", dydx64: full.dydx64 };
    // the same three with a wrong value each, to prove each section is really compared
    const bad = (c: Record<string, unknown>, key: string): Record<string, unknown> => ({ ...c, id: `${String(c.id)}/bad`, [key]: (c[key] as number[]).map((v, i) => (i === 2 ? v + 0.01 : v)) });
    const results = await run({ cases: [forwardOnly, gradientOnly, derivativeOnly, bad(forwardOnly, "y64"), bad(gradientOnly, "grad64"), bad(derivativeOnly, "dydx64")] });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["forward-only", "pass"], ["gradient-only", "pass"], ["derivative-only", "pass"],
      ["forward-only/bad", "fail"], ["gradient-only/bad", "fail"], ["derivative-only/bad", "fail"],
    ]);
    expect(byId(results, "gradient-only/bad").message).toMatch(/^grad: 1 of 4 values off; at \[2\]/);
    expect(byId(results, "derivative-only/bad").message).toMatch(/^dydx: 1 of 4 values off; at \[2\]/);
  });

  it("fails malformed cases instead of dropping them", async () => {
    const ok = elementwiseCase("ok", "relu", [1, 2], relu, drelu);
    const results = await run({
      cases: [
        { id: "nothing", op: "relu", kind: "elementwise", shape: [2], x: [1, 2] },
        { ...ok, id: "no-g", g: undefined },
        { ...ok, id: "bad-shape", shape: [3] },
        { ...ok, id: "bad-number", y64: [1, "one"] },
        { ...ok, id: "no-x", x: undefined },
        "not a case",
        { ...ok, id: "no-op", op: undefined },
      ],
    });
    expect(results.map((r) => r.status)).toEqual(Array(7).fill("fail"));
    expect(byId(results, "nothing").message).toMatch(/nothing to check/);
    expect(byId(results, "no-g").message).toMatch(/grad64 is given without g/);
    expect(byId(results, "bad-shape").message).toMatch(/shape \[3\] holds 3 values, x has 2/);
    expect(byId(results, "bad-number").message).toMatch(/not a reference number: "one"/);
    expect(byId(results, "no-x").message).toMatch(/no x/);
    expect(byId(results, "cases[5]").message).toMatch(/is not an object/);
    expect(byId(results, "no-op").message).toMatch(/no op/);
  });

  it("accepts alternatives at an index, for y and for the gradient (and the derivative, divided by g)", async () => {
    // relu at NaN: torch passes g; a runtime that propagates NaN instead is accepted through alternatives
    const xs = [1, -1, NaN];
    const c = elementwiseCase("relu/nan-grad", "relu", xs, relu, () => NaN);
    (c.grad64 as unknown[])[0] = enc(upstreamGradient(0));
    (c.grad64 as unknown[])[1] = 0;
    (c.dydx64 as unknown[])[0] = 1;
    (c.dydx64 as unknown[])[1] = 0;
    // expected NaN at index 2; we give 1·g there: wrong without the alternative
    const without = byId(await run({ cases: [c] }), "relu/nan-grad");
    expect(without.status).toBe("fail");
    expect(without.message).toMatch(/grad: 1 of 3 values off; at \[2\] x=NaN expected NaN, got 2/);
    const withAlt = { ...c, alternatives: { "2": { grad: [enc(upstreamGradient(2))], why: "torch passes g" } } };
    expect(byId(await run({ cases: [withAlt] }), "relu/nan-grad").status).toBe("pass");
    // a y alternative
    const y = elementwiseCase("relu/y-alt", "relu", [2, 3], relu, drelu);
    (y.y64 as number[])[1] = 3.5;
    expect(byId(await run({ cases: [y] }), "relu/y-alt").status).toBe("fail");
    expect(byId(await run({ cases: [{ ...y, alternatives: { "1": { y: [3] } } }] }), "relu/y-alt").status).toBe("pass");
  });

  it("runs prelu with one weight per channel of the last axis, checking grad_weight64", async () => {
    const w = [0.1, 0.25, -0.5];
    const xs = [1, -2, 3, -0.5, 0.25, -4, 0, -1, 2, -3, 5, -0.125];
    const g = xs.map((_, i) => upstreamGradient(i));
    const ch = (i: number): number => i % 3;
    const gw = [0, 0, 0];
    xs.forEach((x, i) => {
      if (x <= 0) gw[ch(i)]! += g[i]! * x;
    });
    const c = {
      id: "prelu/per-channel", op: "prelu", kind: "elementwise", params: { weight: w, weight_shape: [3] }, shape: [4, 3], x: xs, g,
      y64: xs.map((x, i) => (x > 0 ? x : w[ch(i)]! * x)),
      grad64: xs.map((x, i) => g[i]! * (x > 0 ? 1 : w[ch(i)]!)),
      grad_weight64: gw, grad_weight_shape: [3],
    };
    expect(byId(await run({ cases: [c] }), "prelu/per-channel").status).toBe("pass");
    const corrupted = { ...c, grad_weight64: [gw[0], gw[1]! + 0.5, gw[2]] };
    const r = byId(await run({ cases: [corrupted] }), "prelu/per-channel");
    expect(r.status).toBe("fail");
    expect(r.message).toMatch(/^grad_weight: 1 of 3 values off; at \[1\]/);
    // one shared weight given as a number
    const shared = { ...c, params: { weight: 0.25 }, y64: xs.map((x) => (x > 0 ? x : 0.25 * x)), grad64: undefined, grad_weight_shape: [1], grad_weight64: [xs.reduce((a, x, i) => a + (x <= 0 ? g[i]! * x : 0), 0)] };
    expect(byId(await run({ cases: [shared] }), "prelu/per-channel").status).toBe("pass");
  });

  it("applies per-op tolerance overrides from meta.recommended_tolerances", async () => {
    const xs = [-3, -1, 0, 1];
    const gelu = (x: number): number => 0.5 * x * (1 + erfRef(x / Math.SQRT2));
    const c = elementwiseCase("gelu[approximate=none]/grid", "gelu", xs, gelu, () => 0, { approximate: "none" });
    const forward = omit(c, ["g", "grad64", "dydx64"]);
    (forward.y64 as number[])[0] = gelu(-3) + 3e-7; // within 5e-7, outside 1e-7
    const meta = (overrides: unknown): unknown => ({ recommended_tolerances: { forward: { rtol: 1e-6, atol: 1e-7 }, grad: { rtol: 1e-5, atol: 1e-6 }, overrides } });
    expect(byId(await run({ meta: meta({}), cases: [forward] }), forward.id as string).status).toBe("fail");
    for (const key of ["gelu[approximate=none]", "gelu"]) {
      const r = byId(await run({ meta: meta({ [key]: { forward: { rtol: 1e-6, atol: 5e-7 }, why: "erf in float32" } }), cases: [forward] }), forward.id as string);
      expect(r.status, key).toBe("pass");
    }
    // an override for the other variant does not apply
    const other = byId(await run({ meta: meta({ "gelu[approximate=tanh]": { forward: { rtol: 1e-6, atol: 5e-7 } } }), cases: [forward] }), forward.id as string);
    expect(other.status).toBe("fail");
  });

  it("scales the elementwise gradient atol by max(1, |g_i|), and not for softmax", async () => {
    // at x = 20 the gradient is ~1e-9, so only atol matters; index 2 has g = 2
    const c = elementwiseCase("sigmoid/scaled", "sigmoid", [20, 20, 20], sigmoidRef, dsigmoid);
    const gradOnly = omit(c, ["y64", "dydx64"]);
    const shifted = (by: number): unknown => ({ ...gradOnly, grad64: (gradOnly.grad64 as number[]).map((v, i) => (i === 2 ? v + by : v)) });
    expect(byId(await run({ cases: [shifted(1.5e-6)] }), "sigmoid/scaled").status).toBe("pass"); // inside 1e-6·2
    expect(byId(await run({ cases: [shifted(2.5e-6)] }), "sigmoid/scaled").status).toBe("fail");
    // softmax: the same error on a near-zero gradient fails although g = 3 there
    const x = [-20, 0, 0];
    const g = [3, -1, 0.5];
    const e = x.map(Math.exp);
    const y = e.map((v) => v / (e[0]! + e[1]! + e[2]!));
    const dot = y.reduce((a, v, i) => a + v * g[i]!, 0);
    const grad = y.map((v, i) => v * (g[i]! - dot));
    const softmaxCase = (by: number): unknown => ({ id: "softmax/unscaled", op: "softmax", kind: "last_axis", params: { dim: -1 }, shape: [3], x, g, grad64: grad.map((v, i) => (i === 0 ? v + by : v)) });
    expect(byId(await run({ cases: [softmaxCase(0.5e-6)] }), "softmax/unscaled").status).toBe("pass");
    expect(byId(await run({ cases: [softmaxCase(1.5e-6)] }), "softmax/unscaled").status).toBe("fail");
  });
});

describe("runConformance", () => {
  it("passes every case of the PyTorch reference file on cpu", async () => {
    const report = await runConformance([REFERENCE.pathname], { backends: ["cpu"] });
    const count = (JSON.parse(readFileSync(REFERENCE, "utf8")) as { cases: unknown[] }).cases.length;
    expect(report.summary).toEqual({ pass: count, fail: 0, unsupported: 0 });
  });

  it("reports a file of unknown format, or unreadable, as one failure", async () => {
    const { paths } = writeFiles({ "weird.json": { hello: 1 }, "broken.json": "{ not json" });
    const report = await runConformance([paths["weird.json"]!, paths["broken.json"]!], { backends: ["cpu"] });
    expect(report.cases.map((c) => c.status)).toEqual(["fail", "fail"]);
    expect(report.cases[0]!.message).toMatch(/unknown format: expected `cases`/);
    expect(report.cases[1]!.message).toMatch(/cannot read/);
    expect(report.summary).toEqual({ pass: 0, fail: 2, unsupported: 0 });
  });

  it("reports every case unsupported on a backend that is not available, with the reason", async () => {
    const { paths } = writeFiles({ "a.json": { cases: [elementwiseCase("relu/x", "relu", [1, -1], relu, drelu), elementwiseCase("tanh/x", "tanh", [1], Math.tanh, (x) => 1 - Math.tanh(x) ** 2)] } });
    const report = await runConformance([paths["a.json"]!], { backends: ["cpu", "quantum"] });
    expect(report.cases.map((c) => [c.id, c.backend, c.status])).toEqual([
      ["relu/x", "cpu", "pass"], ["relu/x", "quantum", "unsupported"], ["tanh/x", "cpu", "pass"], ["tanh/x", "quantum", "unsupported"],
    ]);
    expect(report.cases[1]!.message).toMatch(/backend "quantum" is not available: unknown backend/);
    expect(report.backends).toEqual({ used: ["cpu"], skipped: { quantum: expect.stringMatching(/unknown backend/) as unknown } });
  });

  it("dispatches by content: activation cases and MLP sections", async () => {
    expect(hasMlpSection({ small_mlp: {} })).toBe(true);
    expect(hasMlpSection({ variants: {} })).toBe(true);
    expect(hasMlpSection({ other: { training_trajectories: [] } })).toBe(true);
    expect(hasMlpSection({ cases: [] })).toBe(false);
    const mlp = new URL("../../../fixtures/reference/mlp.json", import.meta.url).pathname;
    const report = await runConformance([REFERENCE.pathname, mlp], { backends: ["cpu"] });
    const files = new Set(report.cases.map((c) => c.file));
    expect(files).toEqual(new Set([REFERENCE.pathname, mlp]));
    expect(report.cases.filter((c) => c.file === mlp).length).toBeGreaterThan(0);
  });
});
