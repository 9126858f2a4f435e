/**
 * Hostile inputs, memory: requests no backend can satisfy are refused with an error that names the bytes
 * asked for and the limit, before anything is allocated, and leave every other tensor and every memory
 * counter as it was. The sizes here are far beyond any backend (2^32 and more elements), so nothing below
 * allocates more than a few kilobytes; the wasm-only case asks for exactly 2 GiB, which the wasm backend
 * refuses without growing its memory.
 */
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import {
  ArgumentError, type Backend, type MemoryInfo, NeuriteError, OutOfMemoryError, ShapeError, type Tensor, add,
  backendInstance, fill, gather, getBackend, matmul, memory, mse, mul, normal, oneHot, ones, range, reshape, scope,
  sequential, setBackend, sum, tanh, tensor, uniform, use, valueAndGrad, valueAndGradOf, zeros,
} from "@neurite/core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forEachBackend } from "../../src/backends.js";

use(reluFamily, softmaxFamily);

/**
 * `inner` with an allocator that refuses its `failAt`-th allocation (alloc or upload) with an
 * OutOfMemoryError, as a real backend does when its memory runs out in the middle of an op.
 */
function flaky(inner: Backend): { backend: Backend; state: { allocations: number; failAt: number } } {
  const state = { allocations: 0, failAt: Infinity };
  const refuse = (values: number): void => {
    if (++state.allocations === state.failAt) throw new OutOfMemoryError(`flaky: allocation ${state.allocations} refused`, values * 4, 0, `flaky-${inner.name}`);
  };
  const backend = new Proxy(inner, {
    get(target, prop) {
      if (prop === "name") return `flaky-${inner.name}`;
      if (prop === "alloc") return (size: number) => (refuse(size), target.alloc(size));
      if (prop === "upload") return (values: Float32Array) => (refuse(values.length), target.upload(values));
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { backend, state };
}

/** The counters that must come back exactly: live tensors and bytes, and the backend's own bytes and buffers. */
function snapshot(): { tensors: number; bytes: number; backendBytes: number; backendBuffers: number } {
  const m: MemoryInfo = memory();
  return { tensors: m.tensors, bytes: m.bytes, backendBytes: m.backend?.bytes ?? -1, backendBuffers: m.backend?.buffers ?? -1 };
}

/** Runs `run`, which must throw; returns the error. */
function thrown(run: () => unknown): unknown {
  try {
    const r = run() as { dispose?: () => void } | undefined;
    r?.dispose?.();
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to throw, it returned");
}

/** Known values, different per tensor, so that an overwrite by a runaway kernel shows. */
function witnesses(): { t: Tensor; values: number[] }[] {
  return [
    Array.from({ length: 8 }, (_, i) => i + 1.5),
    Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 100),
    Array.from({ length: 4096 }, (_, i) => -i),
  ].map((values) => ({ t: tensor(values), values: Array.from(Float32Array.from(values)) }));
}

forEachBackend("hostile sizes", (backend) => {
  let atStart: ReturnType<typeof snapshot>;
  beforeAll(() => {
    atStart = snapshot();
  });
  afterAll(() => {
    expect(snapshot(), "the tests leave nothing behind").toEqual(atStart);
  });

  /**
   * The protocol every case follows: live tensors with known values, the failing request, the error, the
   * same values and counters, then ordinary work again.
   */
  function refusedCleanly(request: () => unknown, check: (e: unknown) => void): void {
    const baseline = snapshot();
    const live = witnesses();
    const before = snapshot();
    const e = thrown(request);
    check(e);
    expect(snapshot(), "the failed request changed no memory counter").toEqual(before);
    for (const { t, values } of live) expect(Array.from(t.dataSync())).toEqual(values);
    // the allocator still works: allocate and compute normally
    const x = tensor([1, 2, 3, 4]);
    const twice = add(x, x);
    const y = mul(twice, x);
    expect(Array.from(y.dataSync())).toEqual([2, 8, 18, 32]);
    const big = ones([1 << 16]);
    const s = sum(big);
    expect(s.dataSync()[0]).toBe(1 << 16);
    for (const t of [x, twice, y, big, s, ...live.map((w) => w.t)]) t.dispose();
    expect(snapshot(), "everything made here is gone again").toEqual(baseline);
  }

  const outOfMemory = (bytes: number) => (e: unknown): void => {
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e).toBeInstanceOf(NeuriteError);
    const oom = e as OutOfMemoryError;
    expect(oom.requestedBytes).toBe(bytes);
    expect(oom.backend).toBe(backend);
    expect(oom.limitBytes).toBeGreaterThan(0);
    // the limit that refused it: one buffer's or the whole memory's maximum (wasm's 2 GiB is both, less its static data)
    expect(oom.limitBytes).toBeLessThanOrEqual(bytes);
    expect(oom.message).toContain(String(bytes));
    expect(oom.message).toContain(String(oom.limitBytes));
    expect(oom.message).toContain(`${backend} backend`);
  };

  test("a broadcast result of 2^33 elements is refused and overwrites nothing", () => {
    const a = zeros([2 ** 17, 1]);
    const b = zeros([1, 2 ** 16]);
    refusedCleanly(() => add(a, b), outOfMemory(2 ** 35));
    a.dispose();
    b.dispose();
  });

  test("ones([2^32 + 8]) is refused instead of summing to 8", () => {
    refusedCleanly(() => sum(ones([2 ** 32 + 8])), outOfMemory((2 ** 32 + 8) * 4));
  });

  test("uniform() over 2^32 + 8 elements is refused before any value is generated", () => {
    refusedCleanly(() => uniform([2 ** 32 + 8], { seed: 1 }), outOfMemory((2 ** 32 + 8) * 4));
  });

  test("a matmul product of 2^34 elements is refused", () => {
    const a = zeros([2 ** 17, 1]);
    const b = zeros([1, 2 ** 17]);
    refusedCleanly(() => matmul(a, b), outOfMemory(2 ** 36));
    a.dispose();
    b.dispose();
  });

  test("a gather whose result would hold 2^33 elements is refused", () => {
    const x = zeros([2, 2 ** 20]);
    const indices = zeros([2 ** 13]);
    refusedCleanly(() => gather(x, indices, 0), outOfMemory(2 ** 35));
    x.dispose();
    indices.dispose();
  });

  test("oneHot with a depth of 2^33 is refused", () => {
    const indices = tensor([0, 1, 2, 3]);
    refusedCleanly(() => oneHot(indices, 2 ** 33), outOfMemory(2 ** 37));
    indices.dispose();
  });

  test("element counts that are not safe integers are refused at creation, naming the shape and the limit", () => {
    for (const shape of [[2 ** 30, 2 ** 30, 2 ** 30], [2 ** 53], [3, 2 ** 52], [0, 2 ** 60], [2 ** 60, 0]]) {
      refusedCleanly(() => zeros(shape), (e) => {
        expect(e).toBeInstanceOf(ShapeError);
        expect((e as Error).message).toContain(`[${shape.join(", ")}]`);
        expect((e as Error).message).toContain(String(2 ** 51 - 1));
      });
    }
    refusedCleanly(() => fill([2 ** 26, 2 ** 26], 1), (e) => expect(e).toBeInstanceOf(ShapeError));
    const empty = tensor(new Float32Array(0), [0]);
    refusedCleanly(() => reshape(empty, [0, 2 ** 53]), (e) => expect(e).toBeInstanceOf(ShapeError));
    empty.dispose();
  });

  test("nested arrays that share rows cannot make the host build 2^33 values", () => {
    const row = new Array<number>(2 ** 16).fill(0);
    const rows = new Array<number[]>(2 ** 17).fill(row);
    refusedCleanly(() => tensor(rows), outOfMemory(2 ** 35));
  });

  test("range() over 2^33 values is refused before it builds them, and NaN bounds are refused", () => {
    refusedCleanly(() => range(0, 2 ** 33), outOfMemory(2 ** 35));
    refusedCleanly(() => range(0, Number.NaN), (e) => expect(e).toBeInstanceOf(ArgumentError));
  });

  test("an allocation that fails at any point inside an op, its gradient or a model leaks nothing", async () => {
    const { backend: failing, state } = flaky(await backendInstance(backend));
    use({ kind: "backend", name: failing.name, package: "@neurite/test-suite", version: "0.0.0", create: () => failing });
    await setBackend(failing.name);
    try {
      const x = normal([6, 4], { seed: 1 });
      const w = normal([4, 3], { seed: 2 });
      const b = normal([3], { seed: 3 });
      const model = sequential([{ type: "dense", units: 5, activation: "relu", inputShape: [4] }, { type: "dense", units: 3, activation: "softmax" }]);
      model.build([6, 4]);
      const workloads: [string, () => void][] = [
        ["ops and their gradients", () => {
          const { value, grads } = valueAndGrad((a: Tensor, c: Tensor) => tanh(add(matmul(x, a), c)).square().mean())(w, b);
          value.dispose();
          for (const g of grads) g.dispose();
        }],
        ["a model's predict", () => model.predict(x).dispose()],
        ["a model's loss and gradients", () => {
          const { value, grads } = valueAndGradOf(() => mse(model.apply(x, { training: true }), scope(() => normal([6, 3], { seed: 4 }))), model.trainableWeights);
          value.dispose();
          for (const g of grads) g.dispose();
        }],
      ];
      for (const [what, run] of workloads) {
        // count the allocations of one clean run, then fail each of them in turn
        state.failAt = Infinity;
        state.allocations = 0;
        run();
        const total = state.allocations;
        expect(total, what).toBeGreaterThan(2);
        const before = snapshot();
        for (let k = 1; k <= total; k++) {
          state.allocations = 0;
          state.failAt = k;
          expect(() => run(), `${what}: allocation ${k} of ${total}`).toThrow(OutOfMemoryError);
          expect(snapshot(), `${what}: allocation ${k} of ${total} failed`).toEqual(before);
        }
        state.failAt = Infinity;
      }
      model.dispose();
      for (const t of [x, w, b]) t.dispose();
    } finally {
      state.failAt = Infinity;
      await setBackend(backend);
    }
  });

  if (backend === "wasm") {
    test("wasm: the issue's 2 GiB broadcast is refused (its memory is at most 2 GiB) and the memory does not grow", () => {
      const a = zeros([2 ** 15, 1]);
      const b = zeros([1, 2 ** 14]);
      const memoryBytes = (): unknown => getBackend().capabilities?.().memoryBytes;
      const sizeBefore = memoryBytes();
      refusedCleanly(() => add(a, b), outOfMemory(2 ** 31));
      expect(memoryBytes(), "the refused request did not grow the WebAssembly memory").toBe(sizeBefore);
      a.dispose();
      b.dispose();
    });
  }
});
