import { describe, expect, it } from "vitest";
import { adam, memory as coreMemory, scope, sequential, setBackend, tensor, uniform, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { sizeClassOf } from "./size-class.js";
import { backends, random } from "./helpers.js";

use(reluFamily, softmaxFamily);
const { wasm } = await backends();

describe("allocator", () => {
  it("reuses freed blocks: 10 000 alloc/free cycles keep memory() and the heap flat", () => {
    const before = wasm.memory();
    const sizes = [1, 3, 17, 100, 1000, 4097, 65536, 100000];
    // two of each size: a cycle below may take the same size twice
    const warm = [...sizes, ...sizes].map((s) => wasm.alloc(s));
    warm.forEach((id) => wasm.free(id));
    const top = wasm.heapStats().heapTop;
    for (let i = 0; i < 10000; i++) {
      const ids = [wasm.alloc(sizes[i % sizes.length]!), wasm.alloc(sizes[(i * 7) % sizes.length]!)];
      ids.forEach((id) => wasm.free(id));
    }
    expect(wasm.memory()).toEqual(before);
    expect(wasm.heapStats().heapTop).toBe(top);
  });

  it("counts live buffers and bytes, and a double free is harmless", () => {
    const before = wasm.memory();
    const a = wasm.alloc(10);
    const b = wasm.upload(new Float32Array([1, 2, 3]));
    expect(wasm.memory()).toEqual({ bytes: before.bytes + 52, buffers: before.buffers + 2 });
    expect(Array.from(wasm.read(b))).toEqual([1, 2, 3]);
    wasm.free(a);
    wasm.free(a);
    wasm.free(b);
    expect(wasm.memory()).toEqual(before);
    expect(() => wasm.read(b)).toThrow(/used after it was freed/);
  });

  it("size classes are 16-byte aligned with at most 12.5% slack", () => {
    for (const bytes of [1, 16, 17, 4096, 4097, 10000, 1 << 20, (1 << 20) + 1]) {
      const c = sizeClassOf(bytes);
      expect(c % 16).toBe(0);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c).toBeLessThanOrEqual(Math.max(16, bytes * 1.125 + 16));
    }
  });

  it("grows memory for large tensors and keeps earlier data intact", () => {
    const keep = wasm.upload(new Float32Array([4, 5, 6]));
    const big = wasm.alloc(8 << 20); // 32 MB forces growth
    expect(Array.from(wasm.read(keep))).toEqual([4, 5, 6]);
    wasm.free(big);
    wasm.free(keep);
  });
});

describe("training", () => {
  it("memory stays flat across 10,000 training steps once warm (Adam, softmax cross-entropy)", async () => {
    await setBackend("wasm");
    const model = sequential([{ type: "dense", units: 32, activation: "relu", inputShape: [20] }, { type: "dense", units: 4, activation: "softmax" }], { seed: 1 });
    model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy" });
    const x = tensor(random(64 * 20, 1), [64, 20]);
    const y = tensor(Float32Array.from({ length: 64 }, (_, i) => i % 4));
    for (let i = 0; i < 20; i++) model.trainOnBatch(x, y);
    const tensors = coreMemory().tensors;
    const top = wasm.heapStats().heapTop;
    const live = wasm.memory();
    for (let i = 0; i < 10_000; i++) model.trainOnBatch(x, y);
    expect(coreMemory().tensors).toBe(tensors);
    expect(wasm.memory()).toEqual(live);
    expect(wasm.heapStats().heapTop).toBe(top);
    // 10,000 steps take ~16 s on an idle 2-core machine: the file's 30 s default would fail it on a loaded one
  }, 240_000);

  it("scoped temporaries return their blocks", () => {
    const before = wasm.memory();
    scope(() => {
      const a = uniform([300, 300], { seed: 3 });
      a.add(1).mul(a).exp();
    });
    expect(wasm.memory()).toEqual(before);
  });
});
