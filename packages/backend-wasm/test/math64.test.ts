/**
 * The float64-lane primitives (simd-math64.ts): the constants of the sin/cos/tan argument reduction checked
 * against π computed here with BigInt, and the whole-vector branch between the short and the exact reduction
 * (lanes of both kinds in one vector, and the lane-by-lane tail).
 */
import { describe, expect, it } from "vitest";
import { type Expr, input, unary } from "@neurite/core";
import { SMALL_REDUCTION_LIMIT, TWO_OVER_PI_PIECES } from "../src/simd-math64.js";
import { backends, on } from "./helpers.js";

const { wasm } = await backends();

function run(program: Expr, xs: Float32Array): Float32Array {
  return on(wasm, [xs], xs.length, ([id], out) =>
    wasm.elementwise({ program, inputs: [{ id: id!, offset: 0, strides: [1] }], scalars: [], shape: [xs.length], out: { id: out, offset: 0, strides: [1] } }),
  );
}

/** π·2^bits by Machin's formula. */
function piScaled(bits: bigint): bigint {
  const atanInv = (n: bigint): bigint => {
    let term = (1n << bits) / n;
    let sum = term;
    for (let k = 3n, sign = -1n; term !== 0n; k += 2n, sign = -sign) {
      term /= n * n;
      sum += (sign * term) / k;
    }
    return sum;
  };
  return 16n * atanInv(5n) - 4n * atanInv(239n);
}

/** A double as m·2^e with m an odd integer (or 0). */
function exact(x: number): { m: bigint; e: number } {
  if (x === 0) return { m: 0n, e: 0 };
  let e = 0;
  let v = x;
  while (!Number.isInteger(v)) {
    v *= 2;
    e--;
  }
  let m = BigInt(v);
  while (m % 2n === 0n) {
    m /= 2n;
    e++;
  }
  return { m, e };
}

describe("sin/cos/tan argument reduction", () => {
  it("the nine pieces of 2/π have at most 28 significant bits each and sum to 2/π within 2^−250", () => {
    const scale = 400n;
    const twoOverPi = (2n << (2n * scale)) / piScaled(scale); // 2/π · 2^400
    let sum = 0n;
    for (const p of TWO_OVER_PI_PIECES) {
      const { m, e } = exact(p);
      expect(m.toString(2).length, `piece ${p}`).toBeLessThanOrEqual(28);
      sum += m << BigInt(Number(scale) + e);
    }
    const error = twoOverPi - sum;
    expect(error >= 0n && error < 1n << (scale - 250n)).toBe(true);
  });

  it("a vector with one lane past 2^20 takes the exact reduction for all four lanes, with the same results", () => {
    const small = [1, -2.5, 1000, SMALL_REDUCTION_LIMIT - 0.0625, 0.1, 3, 1e5].map(Math.fround);
    for (const fn of ["sin", "cos", "tan"] as const) {
      const alone = run(unary(fn, input(0)), new Float32Array(small));
      // each small value in a vector with 1e30 beside it, at every lane position, plus a 3-lane tail
      for (let lane = 0; lane < 4; lane++) {
        const xs = new Float32Array(small.length * 4 + 3).fill(1e30);
        small.forEach((v, i) => (xs[i * 4 + lane] = v));
        const mixed = run(unary(fn, input(0)), xs);
        small.forEach((_, i) => expect(mixed[i * 4 + lane], `${fn}(${small[i]}) beside 1e30 in lane ${lane}`).toBe(alone[i]));
        expect(mixed[xs.length - 1]).toBe(run(unary(fn, input(0)), new Float32Array([1e30]))[0]);
      }
    }
  });

  it("a strided (transposed) operand goes through the same float64 sequences, lane by lane", () => {
    // a [8, 5] buffer read as its [5, 8] transpose, with a lane of 1e30 to force the exact reduction
    const data = new Float32Array(40).map((_, i) => (i === 17 ? 1e30 : Math.fround((i - 20) * 0.37)));
    const program = input(0).sin().add(input(0).hypot(2).log2());
    const got = on(wasm, [data], 40, ([id], out) =>
      wasm.elementwise({ program, inputs: [{ id: id!, offset: 0, strides: [1, 5] }], scalars: [], shape: [5, 8], out: { id: out, offset: 0, strides: [8, 1] } }),
    );
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 8; c++) {
        const v = data[c * 5 + r]!;
        // float32 steps: each primitive rounded to float32, then the sum rounded
        const want = Math.fround(Math.fround(Math.sin(v)) + Math.fround(Math.log2(Math.fround(Math.hypot(v, 2)))));
        expect(got[r * 8 + c], `at [${r}, ${c}] (x = ${v})`).toBe(want);
      }
    }
  });

  it("NaN and ±∞ give NaN from either reduction", () => {
    for (const fn of ["sin", "cos", "tan"] as const) {
      const got = run(unary(fn, input(0)), new Float32Array([NaN, 1, Infinity, 2, -Infinity, NaN, 0.5, 0.25]));
      expect([got[0], got[2], got[4], got[5]].every(Number.isNaN), fn).toBe(true);
      expect(got[1], fn).toBe(Math.fround(Math[fn](1)));
      expect(got[6], fn).toBe(Math.fround(Math[fn](0.5)));
    }
  });
});
