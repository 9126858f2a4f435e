import { createRequire } from "node:module";
import { ArgumentError, OutOfMemoryError } from "@neurite/core";
import { describe, expect, it } from "vitest";
import { CpuBackend, CpuBuffer, cpuBackend } from "../src/index.js";

const require = createRequire(import.meta.url);

describe("plugin", () => {
  it("describes itself and creates a backend", async () => {
    expect(cpuBackend).toMatchObject({ kind: "backend", name: "cpu", package: "@neurite/backend-cpu", version: "0.1.0" });
    const be = await cpuBackend.create();
    expect(be).toBeInstanceOf(CpuBackend);
    expect(be.name).toBe("cpu");
    expect(be.package).toBe("@neurite/backend-cpu");
    expect(be.capabilities?.()).toEqual({ simd: false, threads: 1 });
    expect(Object.keys(be.kernels ?? {}).sort()).toEqual(["adam", "col2im", "copy", "im2col", "im2colMatmul", "logSoftmax", "logSoftmaxBackward", "matmulEpilogue", "softmax", "softmaxBackward"]);
  });
});

describe("memory", () => {
  it("uploads and reads copies", async () => {
    const be = new CpuBackend();
    const src = new Float32Array([1, 2, 3]);
    const id = be.upload(src);
    src[0] = 99;
    const back = be.read(id);
    expect(Array.from(back)).toEqual([1, 2, 3]);
    back[1] = 99;
    expect(Array.from(be.read(id))).toEqual([1, 2, 3]);
    expect(Array.from(await be.readAsync(id))).toEqual([1, 2, 3]);
  });

  it("counts live buffers and bytes", () => {
    const be = new CpuBackend();
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0 });
    const a = be.alloc(10);
    const b = be.upload(new Float32Array(3));
    expect(be.memory()).toEqual({ bytes: 52, buffers: 2 });
    be.free(a);
    expect(be.memory()).toEqual({ bytes: 12, buffers: 1 });
    be.free(a); // a second free is a no-op
    expect(be.memory()).toEqual({ bytes: 12, buffers: 1 });
    be.free(b);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0 });
  });

  it("reuses a freed array of the same size, and pooled arrays are not counted", () => {
    const be = new CpuBackend();
    const a = be.alloc(16) as CpuBuffer;
    const array = a.data;
    be.free(a);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0 });
    const other = be.alloc(8) as CpuBuffer;
    expect(other.data).not.toBe(array);
    const again = be.alloc(16) as CpuBuffer;
    expect(again.data).toBe(array);
    expect(be.memory()).toEqual({ bytes: 96, buffers: 2 });
    const third = be.alloc(16) as CpuBuffer; // the pool is empty again
    expect(third.data).not.toBe(array);
    const up = be.upload(new Float32Array(16).fill(7));
    const thirdArray = third.data;
    be.free(third);
    const reused = be.upload(new Float32Array(16).fill(3)) as CpuBuffer;
    expect(reused.data).toBe(thirdArray);
    expect(Array.from(be.read(reused))).toEqual(new Array<number>(16).fill(3));
    expect(be.memory()).toEqual({ bytes: 4 * 8 + 3 * 64, buffers: 4 });
    be.free(up);
    be.dispose();
    expect(be.memory()).toEqual({ bytes: 4 * 8 + 2 * 64, buffers: 3 });
  });

  it("bounds the pool: only a few arrays per size wait for reuse", () => {
    const be = new CpuBackend();
    const ids = Array.from({ length: 20 }, () => be.alloc(32) as CpuBuffer);
    const arrays = new Set(ids.map((b) => b.data));
    for (const id of ids) be.free(id);
    const again = Array.from({ length: 20 }, () => be.alloc(32) as CpuBuffer);
    const reused = again.filter((b) => arrays.has(b.data)).length;
    expect(reused).toBeGreaterThan(0);
    expect(reused).toBeLessThanOrEqual(8);
    expect(be.memory()).toEqual({ bytes: 20 * 128, buffers: 20 });
  });

  it("keeps counts right over a churning training-like loop", () => {
    const be = new CpuBackend();
    const keep = be.alloc(100);
    for (let step = 0; step < 50; step++) {
      const tmp = [be.alloc(100), be.alloc(100), be.alloc(7), be.upload(new Float32Array(100))];
      expect(be.memory()).toEqual({ bytes: 4 * (100 + 307), buffers: 5 });
      for (const t of tmp) be.free(t);
    }
    expect(be.memory()).toEqual({ bytes: 400, buffers: 1 });
    be.free(keep);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0 });
  });

  it("rejects freed and foreign handles with a clear error", () => {
    const be = new CpuBackend();
    const a = be.alloc(2);
    be.free(a);
    expect(() => be.read(a)).toThrow(/used after it was freed/);
    expect(() => be.read({})).toThrow(/not a buffer of the cpu backend/);
    expect(() => be.free({})).toThrow(/another backend/);
    expect(() => be.alloc(-1)).toThrow(ArgumentError);
    expect(() => be.alloc(1.5)).toThrow(ArgumentError);
    expect(() => be.alloc(2 ** 53)).toThrow(ArgumentError);
  });

  it("refuses a buffer beyond the engine's Float32Array limit with an OutOfMemoryError, before allocating", () => {
    const be = new CpuBackend();
    const keep = be.upload(new Float32Array([1, 2, 3]));
    const pooled = be.alloc(5);
    be.free(pooled);
    const before = be.memory();
    // Node says how long a typed array may be; V8 refuses one element more without touching memory
    const limit = (require("node:buffer") as { constants: { MAX_LENGTH: number } }).constants.MAX_LENGTH;
    expect(be.maxBufferBytes).toBe(limit * 4);
    for (const size of [limit + 8, 2 ** 40, 2 ** 51 - 1]) {
      let error: unknown;
      try {
        be.alloc(size);
      } catch (e) {
        error = e;
      }
      expect(error, `alloc(${size})`).toBeInstanceOf(OutOfMemoryError);
      const oom = error as OutOfMemoryError;
      expect(oom.requestedBytes).toBe(size * 4);
      expect(oom.limitBytes).toBe(limit * 4);
      expect(oom.backend).toBe("cpu");
      expect(oom.message).toContain(String(size * 4));
      expect(oom.message).toContain(String(limit * 4));
      expect(be.memory()).toEqual(before);
    }
    expect(Array.from(be.read(keep))).toEqual([1, 2, 3]);
    // the pool still serves the array freed above
    expect(be.read(be.alloc(5)).length).toBe(5);
  });

  it("allocates empty buffers", () => {
    const be = new CpuBackend();
    const a = be.alloc(0);
    expect(be.read(a).length).toBe(0);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 1 });
    be.free(a);
    expect(be.memory()).toEqual({ bytes: 0, buffers: 0 });
  });
});
