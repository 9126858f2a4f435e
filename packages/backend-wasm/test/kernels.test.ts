import { describe, expect, it } from "vitest";
import { type Backend, type MatmulArgs, type ReduceOp, input, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { backends, mismatches, on, random } from "./helpers.js";

use(reluFamily);
const { cpu, wasm } = await backends();

/** Forward error bound of a float32 dot product of length k: a few ulp of Σ|a||b| (the cpu backend sums in float64). */
function matmulTolerance(a: Float32Array, b: Float32Array, g: MatmulArgs): Float32Array {
  const { m, n, k, batch, transposeA, transposeB, aBatchStride, bBatchStride } = g;
  const bound = new Float32Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[t * aBatchStride + (transposeA ? p * m + i : i * k + p)]!;
          const bv = b[t * bBatchStride + (transposeB ? j * k + p : p * n + j)]!;
          s += Math.abs(av * bv);
        }
        bound[t * m * n + i * n + j] = (k + 2) * 6e-8 * s + 1e-30;
      }
    }
  }
  return bound;
}

function matmulOn(b: Backend, a: Float32Array, bb: Float32Array, g: Omit<MatmulArgs, "a" | "b" | "out">): Float32Array {
  return on(b, [a, bb], g.batch * g.m * g.n, ([ia, ib], out) => b.matmul({ ...g, a: ia!, b: ib!, out }));
}

describe("matmul", () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [4, 8, 4], [17, 33, 9], [64, 300, 65], [130, 257, 70], [5, 600, 3], [128, 784, 32]];
  for (const [m, k, n] of shapes) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`${m}×${k}·${k}×${n}${tA ? " Aᵀ" : ""}${tB ? " Bᵀ" : ""} agrees with the cpu backend`, () => {
        const g = { batch: 1, m, n, k, transposeA: tA, transposeB: tB, aBatchStride: 0, bBatchStride: 0 };
        const a = random(m * k, m * 31 + k, -1, 1);
        const b = random(k * n, n * 17 + k, -1, 1);
        const tol = matmulTolerance(a, b, { ...g, a: {}, b: {}, out: {} });
        expect(mismatches(matmulOn(wasm, a, b, g), matmulOn(cpu, a, b, g), 0, (i) => tol[i]!)).toEqual([]);
      });
    }
  }

  it("batches, broadcasts one operand over the batch, and handles k = 0", () => {
    for (const [batch, as, bs, tA] of [[3, 1, 1, false], [4, 1, 0, false], [4, 0, 1, true], [2, 1, 0, true]] as const) {
      const m = 9, k = 13, n = 11;
      const g = { batch, m, n, k, transposeA: tA, transposeB: false, aBatchStride: as * m * k, bBatchStride: bs * k * n };
      const a = random(batch * m * k, 5, -1, 1);
      const b = random(batch * k * n, 6, -1, 1);
      const tol = matmulTolerance(a, b, { ...g, a: {}, b: {}, out: {} });
      expect(mismatches(matmulOn(wasm, a, b, g), matmulOn(cpu, a, b, g), 0, (i) => tol[i]!)).toEqual([]);
    }
    const zero = matmulOn(wasm, new Float32Array(0), new Float32Array(0), { batch: 1, m: 3, n: 2, k: 0, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(Array.from(zero)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("fuses bias and activation into the output and writes the pre-activation", () => {
    const m = 70, k = 50, n = 37;
    const a = random(m * k, 1), b = random(k * n, 2), bias = random(n, 3);
    const act = input(0).gt(0).where(input(0), input(0).mul(0.1).add(input(0).expm1().mul(0.05)));
    const results = [cpu, wasm].map((be) => {
      const [ia, ib, ibias] = [a, b, bias].map((v) => be.upload(v));
      const out = be.alloc(m * n), pre = be.alloc(m * n);
      be.kernels!.matmulEpilogue!({ a: ia!, b: ib!, out, batch: 1, m, n, k, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0, bias: ibias!, activation: act, scalars: [], preActivation: pre });
      return [be.read(out), be.read(pre)];
    });
    // z = x·W + b from the plain cpu product (the reference for the pre-activation output)
    const z = matmulOn(cpu, a, b, { batch: 1, m, n, k, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 }).map((v, i) => v + bias[i % n]!);
    expect(mismatches(results[1]![1]!, z, 1e-5, 1e-5)).toEqual([]);
    expect(mismatches(results[1]![0]!, results[0]![0]!, 1e-5, 1e-5)).toEqual([]);
  });

  it("rejects operands too small for the product, naming the sizes", () => {
    const a = wasm.upload(new Float32Array(5));
    const b = wasm.upload(new Float32Array(6));
    const out = wasm.alloc(4);
    expect(() => wasm.matmul({ a, b, out, batch: 1, m: 2, n: 2, k: 3, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 })).toThrow(/a holds 5 values, fewer than batch 1 of 2×3/);
    [a, b, out].forEach((id) => wasm.free(id));
  });
});

describe("reduce", () => {
  const ops: ReduceOp[] = ["sum", "max", "min", "argmax", "argmin"];
  for (const op of ops) {
    it(`${op} over rows and over middle axes agrees with the cpu backend, NaN included`, () => {
      for (const [outer, size, inner] of [[3, 1000, 1], [5, 7, 1], [4, 33, 6], [2, 5, 9], [1, 0, 3], [6, 3, 1]] as const) {
        const x = random(outer * size * inner, outer + size + inner, -100, 100);
        if (x.length > 10) x[7] = NaN;
        const run = (b: Backend): Float32Array => on(b, [x], outer * inner, ([ix], out) => b.reduce({ op, x: ix!, outer, size, inner, out }));
        expect(mismatches(run(wasm), run(cpu), 1e-6, 1e-5)).toEqual([]);
      }
    });
  }
});

describe("row kernels", () => {
  const rows = 9, cols = 37;
  const x = random(rows * cols, 4, -30, 30);
  x.set([1000, 1001, 1002], 0);
  x[cols] = Infinity;
  x[2 * cols + 3] = NaN;
  for (let j = 0; j < cols; j++) x[3 * cols + j] = -Infinity;
  x[4 * cols] = -Infinity;
  const g = random(rows * cols, 5, -2, 2);
  for (const kernel of ["softmax", "logSoftmax"] as const) {
    it(`${kernel} forward and backward agree with the cpu backend (stable, NaN rows, −∞ entries)`, () => {
      const fwd = (b: Backend): Float32Array => on(b, [x], rows * cols, ([ix], out) => b.kernels![kernel]!({ x: ix!, out, rows, cols }));
      const yc = fwd(cpu);
      expect(mismatches(fwd(wasm), yc, 1e-6, 1e-7)).toEqual([]);
      const finite = yc.map((v) => (Number.isNaN(v) ? 0 : v));
      const bk = kernel === "softmax" ? "softmaxBackward" : "logSoftmaxBackward";
      const bwd = (b: Backend): Float32Array => on(b, [finite, g], rows * cols, ([iy, ig], out) => b.kernels![bk]!({ y: iy!, g: ig!, out, rows, cols }));
      expect(mismatches(bwd(wasm), bwd(cpu), 1e-5, 1e-6)).toEqual([]);
    });
  }
});

describe("softmax of wide rows", () => {
  it("stays within the forward tolerance of float64 when entries sit far below the row maximum", () => {
    // the exponentials use the base-2 reduction, whose error grows with max − x: spread rows over [−95, 5]
    const rows = 64, cols = 1027;
    const x = random(rows * cols, 21, -95, 5);
    for (let r = 0; r < rows; r++) x[r * cols + (r % cols)] = 5; // a maximum in every row, at varying columns
    const expected = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      const mx = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - mx), 0);
      row.forEach((v, j) => (expected[r * cols + j] = Math.exp(v - mx) / sum));
    }
    const y = on(wasm, [x], rows * cols, ([ix], out) => wasm.kernels.softmax!({ x: ix!, out, rows, cols }));
    expect(mismatches(y, expected, 1e-6, 1e-7, (i) => `softmax at ${i} (x = ${x[i]})`)).toEqual([]);
  });
});

describe("adam, gather and scatterAdd", () => {
  it("adam updates parameter and both moments in place like the cpu backend", () => {
    const size = 1027;
    const p = random(size, 1), gr = random(size, 2), m = random(size, 3, -0.1, 0.1), v = random(size, 4, 0, 0.01);
    const step = (b: Backend): Float32Array[] => {
      const ids = [p, gr, m, v].map((d) => b.upload(d));
      b.kernels!.adam!({ param: ids[0]!, grad: ids[1]!, m: ids[2]!, v: ids[3]!, size, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 1 - 0.9 ** 3, biasCorrection2: 1 - 0.999 ** 3, weightDecay: 0.01, decoupledWeightDecay: 0.02 });
      const r = [0, 2, 3].map((i) => b.read(ids[i]!));
      ids.forEach((id) => b.free(id));
      return r;
    };
    const [c, w] = [step(cpu), step(wasm)];
    for (let i = 0; i < 3; i++) expect(mismatches(w[i]!, c[i]!, 1e-6, 1e-7)).toEqual([]);
  });

  it("gather and scatterAdd agree with the cpu backend and reject bad indices", () => {
    const outer = 3, axisSize = 7, inner = 9, count = 5;
    const x = random(outer * axisSize * inner, 9);
    const idx = new Float32Array([6, 0, 3, 3, 1]);
    const gath = (b: Backend): Float32Array => on(b, [x, idx], outer * count * inner, ([ix, ii], out) => b.gather({ x: ix!, indices: ii!, outer, axisSize, inner, count, out }));
    expect(Array.from(gath(wasm))).toEqual(Array.from(gath(cpu)));
    const src = random(outer * count * inner, 10);
    const scat = (b: Backend): Float32Array => on(b, [src, idx], outer * axisSize * inner, ([is, ii], out) => b.scatterAdd({ src: is!, indices: ii!, outer, axisSize, inner, count, out }));
    expect(mismatches(scat(wasm), scat(cpu), 1e-6, 1e-7)).toEqual([]);
    const bad = new Float32Array([0, 7]);
    expect(() => on(wasm, [x, bad], outer * 2 * inner, ([ix, ii], out) => wasm.gather({ x: ix!, indices: ii!, outer, axisSize, inner, count: 2, out }))).toThrow(/index 7 at position 1 is out of range for an axis of size 7/);
  });
});
