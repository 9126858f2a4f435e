import { type Expr, input, scalar } from "@neurite/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// a sigmoid written independently of core (core's is what the kernels call)
import { sigmoidRef } from "@neurite/test-support";
import { randomArray, rng, setup } from "./helpers.js";

interface Case {
  batch: number; m: number; n: number; k: number;
  transposeA: boolean; transposeB: boolean;
  broadcastA: boolean; broadcastB: boolean;
}

/** Naive float64 product, plus the scale Σ|a·b|² per element that rounding errors are measured against. */
function reference(c: Case, a: Float32Array, b: Float32Array): { value: Float64Array; scale: Float64Array } {
  const { batch, m, n, k } = c;
  const value = new Float64Array(batch * m * n);
  const scale = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = c.broadcastA ? 0 : t * m * k;
    const bo = c.broadcastB ? 0 : t * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let s2 = 0;
        for (let p = 0; p < k; p++) {
          const av = a[ao + (c.transposeA ? p * m + i : i * k + p)]!;
          const bv = b[bo + (c.transposeB ? j * k + p : p * n + j)]!;
          s += av * bv;
          s2 += (av * bv) ** 2;
        }
        value[(t * m + i) * n + j] = s;
        scale[(t * m + i) * n + j] = Math.sqrt(s2);
      }
    }
  }
  return { value, scale };
}

/**
 * A fused epilogue: the activation as an expression for the kernel, and its float64 reference written by hand
 * (never core's evaluator, which shares the kernels' code generator).
 */
interface Epilogue {
  bias: Float32Array | undefined;
  activation?: { expr: Expr; reference: (z: number, scalars: readonly number[]) => number };
  scalars: number[];
  keepPre?: boolean;
}

function run(c: Case, seed: number, epilogue?: Epilogue): void {
  const { be } = setup();
  const rand = rng(seed);
  const a = randomArray((c.broadcastA ? 1 : c.batch) * c.m * c.k, rand);
  const b = randomArray((c.broadcastB ? 1 : c.batch) * c.k * c.n, rand);
  const out = be.upload(new Float32Array(c.batch * c.m * c.n).fill(NaN));
  const args = {
    a: be.upload(a), b: be.upload(b), out, batch: c.batch, m: c.m, n: c.n, k: c.k,
    transposeA: c.transposeA, transposeB: c.transposeB,
    aBatchStride: c.broadcastA ? 0 : c.m * c.k, bBatchStride: c.broadcastB ? 0 : c.k * c.n,
  };
  const pre = epilogue?.keepPre ? be.upload(new Float32Array(c.batch * c.m * c.n).fill(NaN)) : undefined;
  if (epilogue) {
    be.kernels.matmulEpilogue!({ ...args, bias: epilogue.bias && be.upload(epilogue.bias), activation: epilogue.activation?.expr, scalars: epilogue.scalars, preActivation: pre });
  } else {
    be.matmul(args);
  }
  const got = be.read(out);
  const gotPre = pre && be.read(pre);
  const { value, scale } = reference(c, a, b);
  const f = epilogue?.activation?.reference;
  for (let e = 0; e < value.length; e++) {
    let want = value[e]!;
    let tol = 1e-5 * Math.max(Math.abs(want), scale[e]!) + 1e-30;
    if (epilogue) {
      want += epilogue.bias?.[e % c.n] ?? 0;
      // z, before the activation, is what the backward pass reads
      if (gotPre && !(Math.abs(gotPre[e]! - want) <= 1e-5 * Math.max(Math.abs(want), scale[e]! + 1))) {
        expect.fail(`${JSON.stringify(c)}: preActivation ${e} is ${gotPre[e]}, expected ${want}`);
      }
      if (f) want = f(want, epilogue.scalars);
      tol = 1e-5 * Math.max(Math.abs(want), scale[e]! + 1);
    }
    if (!(Math.abs(got[e]! - want) <= tol)) {
      expect.fail(`${JSON.stringify(c)}: element ${e} is ${got[e]}, expected ${want} (±${tol})`);
    }
  }
}

const base = { batch: 1, transposeA: false, transposeB: false, broadcastA: false, broadcastB: false };

describe("matmul", () => {
  it("multiplies a small known case", () => {
    const { be, up, read } = setup();
    const out = be.alloc(4);
    be.matmul({ a: up([1, 2, 3, 4, 5, 6]), b: up([7, 8, 9, 10, 11, 12]), out, batch: 1, m: 2, n: 2, k: 3, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(read(out)).toEqual([58, 64, 139, 154]);
  });

  it("handles every transpose combination across block edges (k > 256, n > 256, odd sizes)", () => {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        run({ ...base, m: 70, n: 300, k: 600, transposeA, transposeB }, 1);
        run({ ...base, m: 33, n: 7, k: 130, transposeA, transposeB }, 2);
        run({ ...base, m: 7, n: 33, k: 1, transposeA, transposeB }, 3);
      }
    }
  });

  it("stays within 1e-5 of float64 for k = 1024", () => {
    run({ ...base, m: 40, n: 37, k: 1024 }, 4);
    run({ ...base, m: 40, n: 37, k: 1024, transposeA: true, transposeB: true }, 5);
  });

  it("handles m, n or k of 0 or 1", () => {
    for (const [m, n, k] of [[1, 1, 1], [1, 64, 64], [64, 1, 64], [64, 64, 1], [1, 1, 500], [0, 5, 5], [5, 0, 5]]) {
      run({ ...base, m: m!, n: n!, k: k! }, 6);
      run({ ...base, m: m!, n: n!, k: k!, transposeA: true, transposeB: true }, 7);
    }
    const { be, read } = setup();
    const out = be.upload(new Float32Array([5, 5, 5, 5, 5, 5]));
    be.matmul({ a: be.alloc(0), b: be.alloc(0), out, batch: 1, m: 2, n: 3, k: 0, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(read(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("broadcasts one matrix over the batch (batch stride 0)", () => {
    run({ ...base, batch: 3, m: 20, n: 24, k: 50, broadcastB: true }, 8); // folded into one tall product
    run({ ...base, batch: 3, m: 20, n: 24, k: 50, broadcastB: true, transposeA: true }, 9);
    run({ ...base, batch: 3, m: 20, n: 24, k: 50, broadcastA: true, transposeB: true }, 10);
    run({ ...base, batch: 2, m: 5, n: 6, k: 7, broadcastA: true, broadcastB: true }, 11);
  });

  it("matches a naive float64 product over random shapes", () => {
    const dim = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 4, 7, 16, 33, 65, 130));
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }), m: dim, n: dim, k: fc.oneof(dim, fc.constantFrom(0, 257)),
      transposeA: fc.boolean(), transposeB: fc.boolean(), broadcastA: fc.boolean(), broadcastB: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(fc.property(arb, ({ seed, ...c }) => run(c, seed)), { numRuns: 120, seed: 7 });
  });

  it("covers every edge of the unpacked tiles (1–10 and 15 rows, 1–9 columns) in every transpose", () => {
    for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15]) {
      for (let n = 1; n <= 9; n++) {
        for (const k of [1, 5, 32]) {
          for (const transposeA of [false, true]) {
            for (const transposeB of [false, true]) run({ ...base, m, n, k, transposeA, transposeB }, m * 100 + n * 10 + k);
          }
        }
      }
    }
  });

  it("gives the same bits for a block of rows as for the whole product, whichever path each size takes", () => {
    // 10 rows of 40×40 run unpacked (5-row tiles), 3 rows too, 300 rows packed, 2 rows of 3000 columns on the row accumulator: each value is
    // one float64 sum over p in order (k ≤ 256), so a row's result does not depend on the batch it came in
    const { be } = setup();
    const rand = rng(31);
    for (const [rows, n, k] of [[300, 40, 40], [300, 40, 200], [2, 3000, 50]] as const) {
      for (const transposeB of [false, true]) {
        const a = randomArray(rows * k, rand);
        const b = be.upload(randomArray(k * n, rand));
        const product = (from: number, count: number): Float32Array => {
          const out = be.alloc(count * n);
          be.matmul({ a: be.upload(a.subarray(from * k, (from + count) * k)), b, out, batch: 1, m: count, n, k, transposeA: false, transposeB, aBatchStride: 0, bBatchStride: 0 });
          return be.read(out);
        };
        const whole = product(0, rows);
        for (const [from, count] of rows > 13 ? [[0, 1], [3, 10], [5, 3], [rows - 2, 2]] : [[0, 1], [1, 1]]) {
          expect(product(from!, count!)).toEqual(whole.subarray(from! * n, (from! + count!) * n));
        }
      }
    }
  });

  it("rejects buffers too small for the shapes", () => {
    const { be } = setup();
    expect(() => be.matmul({ a: be.alloc(5), b: be.alloc(6), out: be.alloc(4), batch: 1, m: 2, n: 2, k: 3, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 })).toThrow(/a holds 5 values/);
    expect(() => be.matmul({ a: be.alloc(6), b: be.alloc(6), out: be.alloc(7), batch: 2, m: 2, n: 2, k: 3, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 })).toThrow(/out holds 7 values/);
  });
});

describe("matmulEpilogue", () => {
  const x = input(0);
  const leaky = { expr: x.gt(0).where(x, x.mul(scalar(0))), reference: (z: number, [alpha]: readonly number[]) => (z > 0 ? z : z * alpha!) };
  const tanh = { expr: x.tanh(), reference: Math.tanh };
  const sigmoid = { expr: x.sigmoid(), reference: sigmoidRef };
  it("adds the bias and applies the activation, on the unpacked, the row-accumulator and the packed path", () => {
    const rand = rng(12);
    for (const [m, n, k] of [[3, 5, 4], [10, 33, 32], [2, 9000, 8], [70, 300, 40], [64, 33, 600]]) {
      const bias = randomArray(n!, rand);
      run({ ...base, m: m!, n: n!, k: k! }, 13, { bias, activation: leaky, scalars: [0.1] });
      run({ ...base, m: m!, n: n!, k: k!, transposeB: true }, 14, { bias, scalars: [] });
      run({ ...base, m: m!, n: n!, k: k!, transposeA: true }, 15, { bias: undefined, activation: tanh, scalars: [] });
      run({ ...base, m: m!, n: n!, k: k! }, 16, { bias: undefined, scalars: [] });
    }
    run({ ...base, batch: 3, m: 9, n: 40, k: 70, broadcastB: true }, 17, { bias: randomArray(40, rand), activation: sigmoid, scalars: [] });
  });

  it("writes z = product + bias to preActivation when asked, on the unpacked, the row-accumulator and the packed path", () => {
    const rand = rng(21);
    for (const [m, n, k] of [[3, 5, 4], [10, 33, 32], [2, 9000, 8], [70, 300, 40]]) {
      run({ ...base, m: m!, n: n!, k: k! }, 22, { bias: randomArray(n!, rand), activation: leaky, scalars: [0.1], keepPre: true });
      run({ ...base, m: m!, n: n!, k: k! }, 23, { bias: undefined, scalars: [], keepPre: true });
    }
  });

  it("rejects a bias shorter than n and activations of other inputs", () => {
    const { be } = setup();
    expect(() => be.kernels.matmulEpilogue!({ a: be.alloc(4), b: be.alloc(4), out: be.alloc(4), batch: 1, m: 2, n: 2, k: 2, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0, bias: be.alloc(1), scalars: [] })).toThrow(/bias holds 1/);
    expect(() => be.kernels.matmulEpilogue!({ a: be.alloc(4), b: be.alloc(4), out: be.alloc(4), batch: 1, m: 2, n: 2, k: 2, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0, activation: input(1).add(1), scalars: [] })).toThrow(/only input\(0\)/);
  });
});
