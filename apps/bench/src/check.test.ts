import { describe, expect, it } from "vitest";
import { checkKeys, compare, toleranceFor } from "./check.js";

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

describe("compare", () => {
  const tol = { rtol: 1e-4, atol: 1e-6 };
  it("accepts identical values, equal infinities and matching NaNs", () => {
    const c = compare(f32([1, -2, Infinity, NaN]), f32([1, -2, Infinity, NaN]), tol);
    expect(c).toMatchObject({ ok: true, mismatches: 0, maxAbs: 0 });
  });
  it("accepts differences within atol + rtol·|expected|", () => {
    expect(compare(f32([100.009]), f32([100]), tol).ok).toBe(true);
    expect(compare(f32([5e-7]), f32([0]), tol).ok).toBe(true);
  });
  it("rejects larger differences and counts them", () => {
    const c = compare(f32([100.02, 1, 3e-6]), f32([100, 1, 0]), tol);
    expect(c.ok).toBe(false);
    expect(c.mismatches).toBe(2);
    expect(c.maxAbs).toBeCloseTo(0.02, 3);
    expect(c.worst).toBeGreaterThan(1);
  });
  it("rejects a NaN where a number is expected, and a length mismatch", () => {
    expect(compare(f32([NaN]), f32([1]), tol).ok).toBe(false);
    const c = compare(f32([1, 2]), f32([1, 2, 3]), tol);
    expect(c.ok).toBe(false);
    expect(c.reason).toMatch(/length 2 ≠ 3/);
  });
  it("allows a share of outliers where the tolerance says so", () => {
    const expected = new Float32Array(2000);
    const actual = expected.slice();
    actual[7] = 1;
    expect(compare(actual, expected, { ...tol, allowFraction: 1e-3 }).ok).toBe(true);
    actual[8] = 1;
    actual[9] = 1;
    expect(compare(actual, expected, { ...tol, allowFraction: 1e-3 }).ok).toBe(false);
  });
});

describe("check keys", () => {
  it("map each row to the comparison that decides its ✓", () => {
    expect(checkKeys("activation-forward", "gelu")).toEqual(["activation-forward:gelu"]);
    expect(checkKeys("activation-backward", "softmax")).toEqual(["activation-backward:softmax"]);
    expect(checkKeys("matmul", "square 512")).toEqual(["matmul:nn"]);
    expect(checkKeys("matmul", "dense xᵀ·dZ")).toEqual(["matmul:tn"]);
    expect(checkKeys("matmul", "dense dZ·Wᵀ")).toEqual(["matmul:nt"]);
    expect(checkKeys("train", "mlp 784-256-128-10 fit")).toEqual(["train:loss", "train:weights"]);
    expect(checkKeys("predict", "mlp 784-256-128-10")).toEqual(["predict"]);
    expect(checkKeys("train", "peak rss")).toEqual([]);
    expect(checkKeys("limit", "copy Float32Array.set")).toEqual([]);
  });
  it("products get a looser absolute tolerance than elementwise ops", () => {
    expect(toleranceFor("matmul:nn").atol).toBeGreaterThan(toleranceFor("activation-forward:relu").atol);
  });
});
