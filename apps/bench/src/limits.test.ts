import { describe, expect, it } from "vitest";
import { copyModuleBytes, leb128, measureJsCopy, measureWasmCopy, wasmCopier } from "./limits.js";

describe("leb128", () => {
  it("encodes the examples of the wasm spec", () => {
    expect(leb128(0)).toEqual([0]);
    expect(leb128(127)).toEqual([127]);
    expect(leb128(128)).toEqual([0x80, 0x01]);
    expect(leb128(512)).toEqual([0x80, 0x04]);
    expect(leb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
  });
  it("rejects negative and fractional numbers", () => {
    expect(() => leb128(-1)).toThrow(/non-negative integer/);
    expect(() => leb128(1.5)).toThrow(/non-negative integer/);
  });
});

describe("the hand-assembled copy module", () => {
  it("is valid WebAssembly (bulk memory) and exports memory and copy", () => {
    const bytes = copyModuleBytes(2);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.name}:${e.kind}`);
    expect(exports).toEqual(["memory:memory", "copy:function"]);
  });
  it("sizes the memory for two arrays", () => {
    const { memory } = wasmCopier(100_000); // 800 kB → 13 pages
    expect(memory.buffer.byteLength).toBe(13 * 65536);
  });
  it("copies bytes from src to dst inside its memory", () => {
    const n = 1000;
    const { memory, copy } = wasmCopier(n);
    const src = new Float32Array(memory.buffer, 0, n);
    for (let i = 0; i < n; i++) src[i] = i * 0.5 - 7;
    copy(n * 4, 0, n * 4);
    expect(Array.from(new Float32Array(memory.buffer, n * 4, n))).toEqual(Array.from(src));
  });
});

describe("copy limits", () => {
  it("report elements and bytes per second consistently (8 bytes per element: a read and a write)", () => {
    const policy = { warmup: 1, minReps: 3, maxReps: 3, budgetMs: 1 };
    for (const lim of [measureJsCopy(4096, policy), measureWasmCopy(4096, policy)]) {
      expect(lim.elements).toBe(4096);
      expect(lim.timing.reps).toBe(3);
      expect(lim.bytesPerSecond).toBeCloseTo(lim.elementsPerSecond * 8, 0);
    }
  });
});

describe("module size", () => {
  it("is 62 bytes for a 512-page memory (as the README says)", () => {
    expect(copyModuleBytes(512).length).toBe(62);
  });
});
