// The allocator's size arithmetic at the edges, on small private memories (a few pages), so that nothing
// here grows a WebAssembly memory beyond 1 MiB. Requests of 2 GiB and more used to wrap around in 32-bit
// arithmetic and come back as 16-byte blocks.
import { readFileSync } from "node:fs";
import { ArgumentError, OutOfMemoryError } from "@neurite/core";
import { describe, expect, it } from "vitest";
import { MAX_PAGES, WasmHeap, sizeClass } from "../src/memory.js";

const PAGE = 65536;

describe("sizeClass", () => {
  it("never rounds a request down, for every power of two up to 2^52 and its neighbours", () => {
    for (let e = 0; e <= 52; e++) {
      for (const bytes of [2 ** e - 1, 2 ** e, 2 ** e + 1, 2 ** e + 15, 2 ** e * 1.5]) {
        if (bytes < 1 || !Number.isSafeInteger(bytes)) continue;
        const c = sizeClass(bytes);
        expect(Number.isSafeInteger(c), `class of ${bytes}`).toBe(true);
        expect(c, `class of ${bytes}`).toBeGreaterThanOrEqual(bytes);
        expect(c % 16, `class of ${bytes}`).toBe(0);
        // at most 12.5 % slack above 4 KiB (plus the 16-byte rounding below)
        expect(c, `class of ${bytes}`).toBeLessThanOrEqual(Math.max(4096, bytes * 1.125 + 16));
      }
    }
  });

  it("keeps 2 GiB and 16 GiB + 32 bytes whole (they were 16 and 32 bytes)", () => {
    expect(sizeClass(2 ** 31)).toBe(2 ** 31);
    expect(sizeClass((2 ** 32 + 8) * 4)).toBeGreaterThanOrEqual((2 ** 32 + 8) * 4);
  });
});

describe("WasmHeap limits", () => {
  /** A heap over a private memory of at most `maxPages` pages. */
  function smallHeap(maxPages: number): WasmHeap {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages });
    return new WasmHeap(memory, 1024, maxPages);
  }

  it("refuses what the memory's maximum cannot hold, names the bytes and the limit, and changes nothing", () => {
    const heap = smallHeap(4);
    const a = heap.upload(Float32Array.from([1, 2, 3, 4]));
    const b = heap.alloc(1000);
    heap.free(b);
    const usage = heap.usage();
    const stats = heap.stats();
    for (const size of [4 * PAGE, 2 ** 29, 2 ** 30, 2 ** 32 + 8, 2 ** 40, 2 ** 51 - 1]) {
      let error: unknown;
      try {
        heap.alloc(size);
      } catch (e) {
        error = e;
      }
      expect(error, `alloc(${size})`).toBeInstanceOf(OutOfMemoryError);
      const oom = error as OutOfMemoryError;
      expect(oom.requestedBytes).toBe(size * 4);
      expect(oom.limitBytes).toBe(4 * PAGE);
      expect(oom.backend).toBe("wasm");
      expect(oom.message).toContain(String(size * 4));
      expect(oom.message).toContain(String(4 * PAGE));
      expect(heap.usage()).toEqual(usage);
      expect(heap.stats()).toEqual(stats);
    }
    // the free list still hands out the block freed above, and the data of a is intact
    const again = heap.alloc(1000);
    expect(again.ptr).toBe(b.ptr);
    expect(Array.from(heap.read(a))).toEqual([1, 2, 3, 4]);
    heap.free(again);
    heap.free(a);
    expect(heap.usage()).toEqual({ bytes: 0, buffers: 0 });
  });

  it("fills its memory up to the maximum exactly, then refuses one more block", () => {
    const heap = smallHeap(2);
    // everything from the heap base to the end of the second page, in one block
    const rest = (2 * PAGE - 1024) / 4;
    const all = heap.alloc(rest);
    expect(heap.stats().memoryBytes).toBe(2 * PAGE);
    const usage = heap.usage();
    const stats = heap.stats();
    expect(() => heap.alloc(1)).toThrow(OutOfMemoryError);
    expect(heap.usage()).toEqual(usage);
    expect(heap.stats()).toEqual(stats);
    heap.free(all);
    // at its maximum the heap serves smaller requests out of a larger free block, split, and the rest stays free
    const small = heap.alloc(1);
    expect(small.ptr).toBe(all.ptr);
    const restOfIt = heap.alloc(rest - 4);
    expect(restOfIt.ptr).toBe(all.ptr + 16);
    expect(heap.stats().pooledBytes).toBe(0);
    expect(() => heap.alloc(1)).toThrow(OutOfMemoryError);
    heap.free(small);
    heap.free(restOfIt);
    expect(heap.usage()).toEqual({ bytes: 0, buffers: 0 });
    expect(heap.stats().pooledBytes).toBe(2 * PAGE - 1024);
  });

  it("rejects sizes that are not element counts with an ArgumentError", () => {
    const heap = smallHeap(1);
    for (const size of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) expect(() => heap.alloc(size), String(size)).toThrow(ArgumentError);
    expect(heap.usage()).toEqual({ bytes: 0, buffers: 0 });
  });

  it("the backend's memory maximum keeps every byte address a positive i32 (the kernels' pointer arithmetic)", () => {
    // the AssemblyScript kernels and the generated kernels compute byte offsets in 32 bits; a memory of at
    // most 2 GiB keeps every address and every offset inside a buffer below 2^31
    expect(MAX_PAGES * PAGE).toBeLessThanOrEqual(2 ** 31);
    // and the kernels module is built for the same maximum (asconfig.json's maximumMemory, in pages)
    const asconfig = JSON.parse(readFileSync(new URL("../asconfig.json", import.meta.url), "utf8")) as { options: { maximumMemory: number } };
    expect(asconfig.options.maximumMemory).toBe(MAX_PAGES);
  });
});
