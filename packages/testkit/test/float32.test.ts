/** The float32 step-by-step reference and the contract built on it (float32.ts). */
import { BINARY_OPS, UNARY_OPS, binary, compileScalar, constant, input, unary } from "@neurite/core";
import { describe, expect, it } from "vitest";
import { float32Steps, withinContract } from "../src/check/float32.js";

const f32 = Math.fround;
const TOL = { rtol: 1e-6, atol: 1e-7 };

describe("float32Steps", () => {
  it("rounds to float32 after every primitive: squareplus at x = −7.9, written out by hand", () => {
    const x = input(0);
    const squareplus = x.add(x.square().add(4).sqrt()).div(2);
    const xv = f32(-7.9);
    const byHand = f32(f32(xv + f32(Math.sqrt(f32(f32(xv * xv) + 4)))) / 2);
    expect(float32Steps(squareplus)([xv], [])).toBe(byHand);
    // and that differs from the float64 formula rounded once: cancellation, not a kernel error
    const once = f32((xv + Math.sqrt(xv * xv + 4)) / 2);
    expect(byHand).not.toBe(once);
    expect(Math.abs(byHand - once) / once).toBeGreaterThan(1e-6);
  });

  it("covers every primitive of the core's tables: each is fround of its float64 value on float32 operands", () => {
    const samples = [-2.5, -0.7, -1e-3, 0, 0.3, 0.9, 1.7, 3.1, 40];
    for (const op of UNARY_OPS) {
      const e = unary(op, input(0));
      const step = float32Steps(e);
      const f64 = compileScalar(e);
      for (const x of samples) expect(Object.is(step([x], []), f32(f64([f32(x)]))), `${op}(${x})`).toBe(true);
    }
    for (const op of BINARY_OPS) {
      const e = binary(op, input(0), input(1));
      const step = float32Steps(e);
      const f64 = compileScalar(e);
      for (const a of samples) for (const b of [0.1, 2.7, -1.3]) expect(Object.is(step([a, b], []), f32(f64([f32(a), f32(b)]))), `${op}(${a}, ${b})`).toBe(true);
    }
  });

  it("rounds constants and scalars to float32, and overflows where float32 does", () => {
    expect(float32Steps(input(0).mul(constant(0.1)))([1], [])).toBe(f32(0.1));
    const square = input(0).square();
    expect(float32Steps(square)([3.4e38], [])).toBe(Infinity);
    expect(compileScalar(square)([3.4e38])).toBeLessThan(Infinity);
  });
});

describe("withinContract", () => {
  it("accepts anything no farther from exact than float32 steps (plus tolerance), and nothing farther", () => {
    const exact = 0.24918;
    const step = 0.24925; // float32 steps off by 7e-5
    expect(withinContract(exact, step, step, TOL)).toBe(true);
    expect(withinContract(exact, step, f32(exact), TOL)).toBe(true);
    expect(withinContract(exact, step, 0.24912, TOL)).toBe(true); // 6e-5 below: within |step − exact| + tolerance
    expect(withinContract(exact, step, 0.2490, TOL)).toBe(false);
    expect(withinContract(1, 1, 1 + 1e-5, TOL)).toBe(false); // well-conditioned: only the tolerance
  });
  it("allows float32 overflow's NaN / ±Infinity where float32 steps give them, and NaN only for NaN", () => {
    expect(withinContract(-0.75, NaN, NaN, TOL)).toBe(true);
    expect(withinContract(-0.75, NaN, -0.75, TOL)).toBe(true);
    expect(withinContract(-0.75, NaN, 0, TOL)).toBe(false);
    expect(withinContract(5.1e38, Infinity, Infinity, TOL)).toBe(true);
    expect(withinContract(1, 1, NaN, TOL)).toBe(false);
    expect(withinContract(NaN, NaN, 0, TOL)).toBe(false);
    expect(withinContract(Infinity, Infinity, 3e38, TOL)).toBe(false);
  });
});
