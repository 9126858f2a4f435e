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
      const m = 301, k = 257, n = 129;
      const a = random(m * k, 1), w = random(k * n, 2), bias = random(n, 3), x = random(1 << 17, 4, -6, 6);
      const run = (b: WasmBackend): Float32Array[] => {
        const [ia, iw, ib, ix] = [a, w, bias, x].map((v) => b.upload(v));
        const out = b.alloc(m * n), pre = b.alloc(m * n), ex = b.alloc(x.length);
        b.matmul({ a: ia!, b: iw!, out, batch: 1, m, n, k, transposeA: true, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
        const plain = b.read(out);
        b.matmulEpilogue({ a: ia!, b: iw!, out, batch: 1, m, n, k, transposeA: false, transposeB: true, aBatchStride: 0, bBatchStride: 0, bias: ib!, activation: input(0).tanh(), scalars: [], preActivation: pre });
        b.elementwise({ program: input(0).sigmoid().mul(input(0)), inputs: [{ id: ix!, offset: 0, strides: [1] }], scalars: [], shape: [x.length], out: { id: ex, offset: 0, strides: [1] } });
        b.elementwise({ program: input(0).add(input(1)), inputs: [{ id: ix!, offset: 0, strides: [256, 1] }, { id: ix!, offset: 0, strides: [0, 1] }], scalars: [], shape: [512, 256], out: { id: ex, offset: 0, strides: [256, 1] } });
        return [plain, b.read(out), b.read(pre), b.read(ex)];
      };
      const r1 = run(one), r2 = run(two);
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
