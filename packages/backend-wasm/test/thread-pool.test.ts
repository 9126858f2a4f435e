/**
 * The thread cut-overs (pure functions), the claim word, and the pool under many back-to-back tasks: results
 * on 2 and 3 threads identical to one thread whoever runs each part, and lastKernelThreads() reporting it.
 */
import { input } from "@neurite/core";
import { describe, expect, it } from "vitest";
import { ELEMENTWISE_PART_MIN, PARALLEL_ADAM_MIN, PARALLEL_ELEMENTWISE_MIN, elementwiseParts, splitForThreads } from "../src/elementwise.js";
import { PARALLEL_MATMUL_MIN, matmulThreads } from "../src/matmul.js";
import { CLAIM_CLOSED, SEQUENCE_WRAP, claimGroup, claimSequence, claimWord } from "../src/threads/protocol.js";
import { type WasmBackend, createWasmBackend } from "../dist/index.js";
import { random } from "./helpers.js";

describe("cut-overs", () => {
  it("elementwise work stays on one thread below PARALLEL_ELEMENTWISE_MIN or with one thread", () => {
    expect(elementwiseParts(PARALLEL_ELEMENTWISE_MIN - 1, 2)).toBe(1);
    expect(elementwiseParts(1 << 24, 1)).toBe(1);
    expect(elementwiseParts(0, 8)).toBe(1);
  });

  it.each([[1 << 21, 2], [1 << 21, 8], [2_000_003 + (1 << 20), 3], [1 << 22, 2], [1 << 24, 16]])(
    "%i elements over %i threads: at least one part per thread, at most four, each ≥ ELEMENTWISE_PART_MIN where possible",
    (elements, threads) => {
      const parts = elementwiseParts(elements, threads);
      expect(parts).toBeGreaterThanOrEqual(threads);
      expect(parts).toBeLessThanOrEqual(4 * threads);
      if (parts > threads) expect(elements / parts).toBeGreaterThanOrEqual(ELEMENTWISE_PART_MIN);
    },
  );

  it("2^21 elements on 2 threads are cut into 8 parts that splitForThreads covers exactly once", () => {
    expect(elementwiseParts(1 << 21, 2)).toBe(8);
    for (const [rows, cols] of [[1, 1 << 21], [3, (1 << 21) / 4], [2048, 1024]] as const) {
      const blocks = splitForThreads(rows, cols, 8);
      expect(blocks.length).toBeGreaterThanOrEqual(8);
      expect(blocks.length).toBeLessThanOrEqual(16);
      expect(blocks.reduce((s, b) => s + (b.r1 - b.r0) * (b.c1 - b.c0), 0)).toBe(rows * cols);
    }
  });

  it("an Adam step stays on one thread below PARALLEL_ADAM_MIN parameters", () => {
    expect(elementwiseParts(PARALLEL_ADAM_MIN - 1, 2, PARALLEL_ADAM_MIN)).toBe(1);
    expect(elementwiseParts(PARALLEL_ADAM_MIN, 2, PARALLEL_ADAM_MIN)).toBeGreaterThanOrEqual(2);
    expect(elementwiseParts(PARALLEL_ADAM_MIN, 1, PARALLEL_ADAM_MIN)).toBe(1);
  });

  it("a product stays on one thread below PARALLEL_MATMUL_MIN multiply-adds or 8 rows", () => {
    expect(matmulThreads(128, 256, 255, 2)).toBe(1);
    expect(128 * 256 * 256).toBe(PARALLEL_MATMUL_MIN);
    expect(matmulThreads(128, 256, 256, 2)).toBe(2);
    expect(matmulThreads(7, 1 << 23, 64, 4)).toBe(1);
    expect(matmulThreads(1024, 1024, 1024, 1)).toBe(1);
  });
});

describe("claim word", () => {
  it("keeps the sequence number and the group apart over their whole ranges", () => {
    for (const sequence of [0, 1, 12345, SEQUENCE_WRAP - 1]) {
      for (const group of [0, 1, 127, CLAIM_CLOSED]) {
        const word = claimWord(sequence, group);
        expect(word).toBeGreaterThanOrEqual(0);
        expect(word).toBeLessThanOrEqual(0x7fffffff);
        expect(claimSequence(word)).toBe(sequence);
        expect(claimGroup(word)).toBe(group);
      }
    }
    // claiming the last open group never carries into the sequence number
    expect(claimSequence(claimWord(7, CLAIM_CLOSED - 1) + 1)).toBe(7);
  });
});

describe("threaded products, split by rows or by columns", () => {
  it("give the one-thread bits: tall ones (m ≥ 2n) by rows, wide ones by columns, with and without the epilogue", async () => {
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 2 });
    try {
      // all above PARALLEL_MATMUL_MIN; 1024×64×256 and its transposed-A twin split rows, 128×512×256 columns
      for (const [m, k, n, transposeA] of [[1024, 64, 256, false], [1024, 64, 256, true], [128, 512, 256, false]] as const) {
        expect(m * n * k).toBeGreaterThanOrEqual(PARALLEL_MATMUL_MIN);
        const [a, b, bias] = [random(m * k, 21), random(k * n, 22), random(n, 23)];
        const results = [one, two].map((be) => {
          const args = { a: be.upload(a), b: be.upload(b), out: be.alloc(m * n), batch: 1, m, n, k, transposeA, transposeB: false, aBatchStride: 0, bBatchStride: 0 };
          be.matmul(args);
          const plain = be.read(args.out);
          be.kernels.matmulEpilogue!({ ...args, bias: be.upload(bias), activation: input(0).max(0), scalars: [] });
          return [plain, be.read(args.out)];
        });
        expect(Array.from(results[1]![0]!), `${m}×${k}×${n}`).toEqual(Array.from(results[0]![0]!));
        expect(Array.from(results[1]![1]!), `${m}×${k}×${n} with bias and relu`).toEqual(Array.from(results[0]![1]!));
      }
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});

describe("the pool under back-to-back tasks", () => {
  /** y ← y·1.0001 + x, `steps` times, over threaded sizes, a product after every 20 steps and an Adam step after every 10. */
  const chain = (b: WasmBackend, steps: number): { y: Float32Array; c: Float32Array; adam: Float32Array[]; threads: number[] } => {
    const n = (1 << 21) + 7; // above PARALLEL_ELEMENTWISE_MIN, and odd: the SIMD tails of every part are exercised
    const x = b.upload(random(n, 11)), y = b.upload(new Float32Array(n));
    const m = 4096, k = 64, cols = 40; // above PARALLEL_MATMUL_MIN, narrow: rows split over a shared packed B
    const a = b.upload(random(m * k, 12)), w = b.upload(random(k * cols, 13)), c = b.alloc(m * cols);
    const size = PARALLEL_ADAM_MIN + 5; // threaded, and the last part ends off the SIMD lanes
    const param = b.upload(random(size, 15)), grad = b.upload(random(size, 16));
    const mom = b.upload(new Float32Array(size)), vel = b.upload(new Float32Array(size));
    const view = (id: object): { id: object; offset: number; strides: number[] } => ({ id, offset: 0, strides: [1] });
    const threads: number[] = [];
    for (let s = 0; s < steps; s++) {
      if (s % 10 === 0) {
        const t = s / 10 + 1;
        b.kernels.adam!({ param, grad, m: mom, v: vel, size, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 1 - 0.9 ** t, biasCorrection2: 1 - 0.999 ** t, weightDecay: 0.01, decoupledWeightDecay: 0 });
        threads.push(b.lastKernelThreads());
      }
      b.elementwise({ program: input(0).mul(1.0001).add(input(1)), inputs: [view(y), view(x)], scalars: [], shape: [n], out: view(y) });
      threads.push(b.lastKernelThreads());
      if (s % 20 === 0) {
        b.matmul({ a, b: w, out: c, batch: 1, m, n: cols, k, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
        threads.push(b.lastKernelThreads());
      }
    }
    const out = { y: b.read(y), c: b.read(c), adam: [param, mom, vel].map((id) => b.read(id)), threads };
    [x, y, a, w, c, param, grad, mom, vel].forEach((id) => b.free(id));
    return out;
  };

  it("gives bit-identical results on 1, 2 and 3 threads (3 oversubscribes 2 cores: workers wake late)", async () => {
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 2 });
    const three = await createWasmBackend({ threads: 3 });
    try {
      const r1 = chain(one, 120), r2 = chain(two, 120), r3 = chain(three, 120);
      expect(r1.threads.every((t) => t === 1)).toBe(true);
      expect(r2.threads.every((t) => t === 1 || t === 2)).toBe(true);
      expect(r3.threads.every((t) => t >= 1 && t <= 3)).toBe(true);
      // bit for bit; the first differing index, if any (toEqual on 2M-element arrays takes seconds)
      const firstDifference = (a: Float32Array, b: Float32Array): number => {
        const [ua, ub] = [new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length)];
        if (ua.length !== ub.length) return 0;
        for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
        return -1;
      };
      for (const r of [r2, r3]) {
        expect(firstDifference(r.y, r1.y)).toBe(-1);
        expect(firstDifference(r.c, r1.c)).toBe(-1);
        r.adam.forEach((values, i) => expect(firstDifference(values, r1.adam[i]!)).toBe(-1));
      }
      // a product below the cut-over never wakes a worker
      const small = three.upload(random(16 * 16, 14)), out = three.alloc(16 * 16);
      three.matmul({ a: small, b: small, out, batch: 1, m: 16, n: 16, k: 16, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
      expect(three.lastKernelThreads()).toBe(1);
    } finally {
      one.dispose();
      two.dispose();
      three.dispose();
    }
  });
});
