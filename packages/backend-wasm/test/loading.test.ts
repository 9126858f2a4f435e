import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { availableParallelism } from "node:os";
import { input } from "@neurite/core";
import { type WasmBackend, createWasmBackend, wasmBackend } from "../dist/index.js";
import { cjs, mismatches, random } from "./helpers.js";

const kernelsUrl = new URL("../dist/kernels.wasm", import.meta.url);

/** A small product and an activation on a fresh backend: proves the kernels and run-time codegen work. */
function smoke(b: WasmBackend): number[] {
  const a = b.upload(new Float32Array([1, 2, 3, 4]));
  const w = b.upload(new Float32Array([5, 6, 7, 8]));
  const out = b.alloc(4);
  b.matmul({ a, b: w, out, batch: 1, m: 2, n: 2, k: 2, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
  b.elementwise({ program: input(0).sub(20).max(0), inputs: [{ id: out, offset: 0, strides: [1] }], scalars: [], shape: [4], out: { id: out, offset: 0, strides: [1] } });
  return Array.from(b.read(out));
}

describe("loading", () => {
  it("loads from the inlined bytes through ESM and CommonJS", async () => {
    expect(smoke(await createWasmBackend())).toEqual([0, 2, 23, 30]);
    expect(smoke((await cjs.wasmBackend.create()) as WasmBackend)).toEqual([0, 2, 23, 30]);
    expect(wasmBackend.name).toBe("wasm");
    expect(cjs.wasmBackend.package).toBe("@neurite/backend-wasm");
  });

  it("loads from a file URL, a URL string and the module's bytes", async () => {
    expect(smoke(await createWasmBackend({ wasm: kernelsUrl }))).toEqual([0, 2, 23, 30]);
    expect(smoke(await createWasmBackend({ wasm: kernelsUrl.href }))).toEqual([0, 2, 23, 30]);
    const bytes = readFileSync(kernelsUrl);
    expect(smoke(await createWasmBackend({ wasm: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }))).toEqual([0, 2, 23, 30]);
  });

  it("names a missing kernels file and a bad thread count", async () => {
    await expect(createWasmBackend({ wasm: new URL("./missing.wasm", kernelsUrl) })).rejects.toThrow(/missing\.wasm/);
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/threads must be a positive integer or "auto", got 0/);
    // @ts-expect-error: a value outside the type, as from untyped JavaScript
    await expect(createWasmBackend({ fma: "yes" })).rejects.toThrow(/fma must be true, false or "auto", got "yes"/);
  });
});

describe("kernels too large to compile synchronously", () => {
  it("run in JavaScript within the tolerance, then as the compiled WebAssembly once it is ready", async () => {
    // what older Chrome does on a page's main thread: a RangeError from new WebAssembly.Module over 4 KB
    const Real = WebAssembly.Module;
    let refused = 0;
    class Limited extends Real {
      constructor(bytes: BufferSource) {
        if (bytes.byteLength > 4096) {
          refused++;
          throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB");
        }
        super(bytes);
      }
    }
    const x = random(1027, 5, -10, 10);
    // a mish-like formula: its unrolled module is well over 4 KB
    const program = input(0).mul(input(0).exp().log1p().tanh()).add(input(0).mul(input(0).mul(Math.SQRT1_2).erf()));
    const run = (b: WasmBackend): Float32Array => {
      const ix = b.upload(x);
      const out = b.alloc(x.length);
      b.elementwise({ program, inputs: [{ id: ix, offset: 0, strides: [1] }], scalars: [], shape: [x.length], out: { id: out, offset: 0, strides: [1] } });
      const r = b.read(out);
      b.free(ix);
      b.free(out);
      return r;
    };
    const compiled = run(await createWasmBackend());
    Object.defineProperty(WebAssembly, "Module", { value: Limited, configurable: true, writable: true });
    try {
      const limited = await createWasmBackend();
      const first = run(limited);
      expect(refused).toBe(1);
      expect(mismatches(first, compiled, 1e-6, 1e-6)).toEqual([]);
      expect(Array.from(first)).not.toEqual(Array.from(compiled)); // float64 JavaScript, not the SIMD kernel
      await vi.waitFor(() => expect(Array.from(run(limited))).toEqual(Array.from(compiled)));
    } finally {
      Object.defineProperty(WebAssembly, "Module", { value: Real, configurable: true, writable: true });
    }
  });
});

describe("threads", () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs matmul, epilogues and elementwise work on 2 threads with the same results as 1", async () => {
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 2 });
    try {
      expect(two.capabilities()).toMatchObject({ simd: true, threads: 2, sharedMemory: true });
      expect(one.capabilities()).toMatchObject({ threads: 1, sharedMemory: false });
      const x = random(1 << 21, 4, -6, 6);
      // wide products split columns (each block packs its own B columns), narrow ones rows; a tall one
      // and a very wide one take bigger blocks so that the task fits a worker's slot
      const shapes: [number, number, number][] = [[301, 257, 129], [5600, 40, 40], [6000, 16, 200], [16, 8, 100000]];
      const run = (b: WasmBackend): Float32Array[] => {
        const out: Float32Array[] = [];
        for (const [m, k, n] of shapes) {
          const a = random(m * k, m + 1), w = random(k * n, n + 2), bias = random(n, 3);
          const [ia, iw, ib] = [a, w, bias].map((v) => b.upload(v));
          const c = b.alloc(m * n), pre = b.alloc(m * n);
          b.matmul({ a: ia!, b: iw!, out: c, batch: 1, m, n, k, transposeA: true, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
          out.push(b.read(c));
          b.matmulEpilogue({ a: ia!, b: iw!, out: c, batch: 1, m, n, k, transposeA: false, transposeB: true, aBatchStride: 0, bBatchStride: 0, bias: ib!, activation: input(0).tanh(), scalars: [], preActivation: pre });
          out.push(b.read(c), b.read(pre));
          // a stack of two matrices under one B: one tall product
          b.matmul({ a: ia!, b: iw!, out: c, batch: 2, m: m >> 1, n, k, transposeA: false, transposeB: false, aBatchStride: (m >> 1) * k, bBatchStride: 0 });
          out.push(b.read(c).subarray(0, 2 * (m >> 1) * n));
          [ia, iw, ib, c, pre].forEach((id) => b.free(id!));
        }
        const ix = b.upload(x);
        const ex = b.alloc(x.length);
        b.elementwise({ program: input(0).sigmoid().mul(input(0)), inputs: [{ id: ix, offset: 0, strides: [1] }], scalars: [], shape: [x.length], out: { id: ex, offset: 0, strides: [1] } });
        out.push(b.read(ex));
        b.elementwise({ program: input(0).add(input(1)), inputs: [{ id: ix, offset: 0, strides: [256, 1] }, { id: ix, offset: 0, strides: [0, 1] }], scalars: [], shape: [512, 256], out: { id: ex, offset: 0, strides: [256, 1] } });
        out.push(b.read(ex));
        return out;
      };
      const r1 = run(one), r2 = run(two);
      expect(r2.length).toBe(r1.length);
      for (let i = 0; i < r1.length; i++) expect(mismatches(r2[i]!, r1[i]!, 0, 0)).toEqual([]);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it("falls back to one thread with a warning that says why when SharedArrayBuffer is missing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.stubGlobal("SharedArrayBuffer", undefined);
    try {
      const b = await createWasmBackend({ threads: 2 });
      expect(b.capabilities()).toMatchObject({ threads: 1, threadsRequested: 2 });
      expect(String(b.capabilities().threadsFallbackReason)).toMatch(/SharedArrayBuffer is not available/);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/running on 1 thread instead of 2: SharedArrayBuffer is not available/));
      expect(smoke(b)).toEqual([0, 2, 23, 30]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("idle workers let a Node process exit on its own", () => {
    const script = `import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)}).then(async (m) => { const b = await m.createWasmBackend({ threads: 2 }); console.log("threads", b.capabilities().threads); });`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20000 });
    expect(r.stdout.trim()).toBe("threads 2");
    expect(r.status).toBe(0);
  });

  it('"auto" uses every core the machine reports', async () => {
    const auto = await createWasmBackend({ threads: "auto" });
    try {
      expect(auto.capabilities().threads).toBe(availableParallelism());
      expect(smoke(auto)).toEqual([0, 2, 23, 30]);
    } finally {
      auto.dispose();
    }
  });
});
