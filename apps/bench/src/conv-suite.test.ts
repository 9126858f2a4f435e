import { describe, expect, it } from "vitest";
import { checkKeys, toleranceFor } from "./check.js";
import { CONV, UNSUPPORTED, cnnWeights, convCheckKeys } from "./conv-suite.js";
import type { ResultRow } from "./protocol.js";
import { applyChecks, formatRatio, formatValue, markdownTable, runChecks } from "./report.js";

const convRow = (over: Partial<ResultRow>): ResultRow => ({
  suite: "conv", case: "digits CNN train steps", size: "8x8x1 b64", library: "neurite", backend: "wasm", threads: 1,
  median_ms: 10, throughput: 6400, unit: "samples/s", ...over,
});

describe("the conv suite's check keys", () => {
  it("tells the forward case from the forward + backward case (one name starts with the other)", () => {
    expect(convCheckKeys("conv2d forward 3x3 same")).toEqual(["conv:forward"]);
    expect(convCheckKeys("conv2d forward + backward 3x3 same")).toEqual(["conv:backward"]);
    expect(convCheckKeys("digits CNN train steps")).toEqual(["conv:train-loss", "conv:train-weights"]);
    expect(convCheckKeys("digits CNN predict")).toEqual(["conv:predict"]);
    expect(checkKeys("conv", "digits CNN predict")).toEqual(["conv:predict"]);
  });

  it("compares the trained weights as loosely as the MLP's, the outputs as sums of products", () => {
    expect(toleranceFor("conv:train-weights")).toEqual(toleranceFor("train:weights"));
    expect(toleranceFor("conv:forward").atol).toBeGreaterThan(toleranceFor("predict").atol);
  });
});

describe("the digits CNN's shared initial weights", () => {
  it("have the shapes of conv 3×3×1×16, conv 3×3×16×32 and dense 32×10, with Glorot-uniform limits and zero biases", () => {
    const w = cnnWeights(5);
    expect(w.map((a) => a.length)).toEqual([3 * 3 * 1 * 16, 16, 3 * 3 * 16 * 32, 32, 32 * 10, 10]);
    const limits = [Math.sqrt(6 / (9 + 9 * 16)), Math.sqrt(6 / (9 * 16 + 9 * 32)), Math.sqrt(6 / (32 + 10))];
    [0, 2, 4].forEach((i, j) => {
      const max = Math.max(...w[i]!.map(Math.abs));
      expect(max).toBeLessThanOrEqual(limits[j]!);
      expect(max).toBeGreaterThan(0.9 * limits[j]!);
    });
    for (const b of [1, 3, 5]) expect(w[b]!.every((v) => v === 0)).toBe(true);
    expect(CONV.input).toEqual([32, 28, 28, 16]);
  });
});

describe("a case a library cannot run", () => {
  const why = "missing kernel Conv2DBackpropFilter";
  const rows = [
    convRow({ library: "neurite" }),
    convRow({ library: "tfjs", median_ms: null, throughput: 0, annotation: `n/a (${why})`, detail: why }),
  ];

  it("shows its reason in the table, not a number, and no ratio", () => {
    expect(formatValue(rows[1]!)).toBe(`n/a (${why})`);
    expect(formatRatio(rows[0]!.throughput, rows[1]!.throughput)).toBe("–");
    const table = markdownTable(rows, [{ library: "neurite", backend: "wasm", status: "ok" }, { library: "tfjs", backend: "wasm", status: "ok" }], () => "");
    expect(table).toContain(`| 6.40 k | n/a (${why}) | – |`);
  });

  it("has its check marked n/a rather than failed, while a wrong value still fails", () => {
    const ref = { "conv:train-loss": Float32Array.of(2.3, 2.2), "conv:train-weights": Float32Array.of(0.1, 0.2) };
    const unsupported = { [`${UNSUPPORTED}conv:train-loss`]: new Float32Array(0), [`${UNSUPPORTED}conv:train-weights`]: new Float32Array(0) };
    const checks = new Map<string, Record<string, Float32Array>>([
      ["neurite-cpu", ref],
      ["tfjs-wasm", unsupported],
      ["neurite-wasm", { "conv:train-loss": Float32Array.of(2.3, 2.2), "conv:train-weights": Float32Array.of(0.1, 0.25) }],
    ]);
    const copy = rows.map((r) => ({ ...r }));
    const cell = applyChecks(copy, runChecks(checks, "neurite-cpu"), "neurite-cpu");
    expect(copy[1]!.check).toBe("n/a");
    expect(copy[0]!.check).toBe("fail"); // neurite-wasm's weights differ
    expect(cell("conv", "digits CNN train steps")).toBe("✗ neurite-wasm");

    const missing = new Map<string, Record<string, Float32Array>>([["neurite-cpu", ref], ["tfjs-wasm", {}]]);
    // a key that is simply absent (no unsupported marker) is still a failure
    expect(applyChecks(rows.map((r) => ({ ...r })), runChecks(missing, "neurite-cpu"), "neurite-cpu")("conv", "digits CNN train steps")).toBe("✗ tfjs-wasm");
  });
});
