/**
 * Memory on every backend: scopes, `using`, keep, async scopes, autograd and a full training step leave
 * `memory()` exactly where it was (tensors, bytes, and what the backend itself reports).
 */
import {
  type MemoryInfo, type Tensor, Variable, adam, add, exp, keep, matmul, memory, mse, mul, normal, ones, scope,
  scopeAsync, sgd, sum, tanh, tensor, valueAndGrad, valueAndGradOf, zeros,
} from "@neurite/core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";

/** The counters that must come back exactly: live tensors and bytes, and the backend's own bytes and buffers. */
function snapshot(): { tensors: number; bytes: number; backendBytes: number; backendBuffers: number } {
  const m: MemoryInfo = memory();
  return { tensors: m.tensors, bytes: m.bytes, backendBytes: m.backend?.bytes ?? -1, backendBuffers: m.backend?.buffers ?? -1 };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

forEachBackend("memory", (backend) => {
  // every test here disposes what it creates: a tensor left for the garbage collector would be counted
  // down by the FinalizationRegistry safety net at an unpredictable await, and move the counters under test
  let atStart: ReturnType<typeof snapshot>;
  beforeAll(() => {
    atStart = snapshot();
  });
  afterAll(() => {
    expect(snapshot(), "the memory tests themselves leave nothing behind").toEqual(atStart);
  });

  test("memory() names the active backend and agrees with it", () => {
    const m = memory();
    expect(m.backend?.name).toBe(backend);
    const t = zeros([10]);
    expect(memory().bytes - m.bytes).toBe(40);
    expect(memory().backend!.bytes - m.backend!.bytes).toBe(40);
    expect(memory().backend!.buffers - m.backend!.buffers).toBe(1);
    t.dispose();
    t.dispose(); // twice is safe
    expect(snapshot()).toEqual({ tensors: m.tensors, bytes: m.bytes, backendBytes: m.backend!.bytes, backendBuffers: m.backend!.buffers });
  });

  test("10,000 ops inside scope leave memory exactly where it was", () => {
    const x = normal([16, 16], { seed: 1 });
    const before = snapshot();
    const result = scope(() => {
      let t = x;
      for (let i = 0; i < 2000; i++) {
        // five ops per iteration, of several kinds (elementwise, matmul, reduction, reshape, transpose)
        t = add(t, 0.001);
        t = mul(tanh(t), 1.0001);
        t = matmul(t, x).mul(0.05);
        t = t.reshape([256]).reshape([16, 16]).transpose();
      }
      return sum(t).item();
    });
    expect(Number.isFinite(result)).toBe(true);
    expect(snapshot()).toEqual(before);
    x.dispose();
  });

  test("scope keeps what it returns (in arrays, objects and Maps) and frees the rest", () => {
    const before = snapshot();
    const out = scope(() => {
      const a = ones([2]);
      const b = add(a, 1);
      const c = mul(b, 2);
      const d = exp(c);
      return { list: [b], nested: { c }, map: new Map([["d", d]]) };
    });
    expect(out.list[0]!.isDisposed).toBe(false);
    expect(Array.from(out.nested.c.dataSync())).toEqual([4, 4]);
    expect(out.map.get("d")!.isDisposed).toBe(false);
    expect(snapshot().tensors).toBe(before.tensors + 3);
    for (const t of [out.list[0]!, out.nested.c, out.map.get("d")!]) t.dispose();
    expect(snapshot()).toEqual(before);
  });

  test("nested scopes: what an inner scope returns belongs to the outer one", () => {
    const before = snapshot();
    let inner: Tensor | undefined;
    const kept = scope(() => {
      inner = scope(() => add(ones([3]), 1));
      expect(inner.isDisposed).toBe(false);
      return mul(inner, 2);
    });
    expect(inner!.isDisposed).toBe(true);
    expect(Array.from(kept.dataSync())).toEqual([4, 4, 4]);
    kept.dispose();
    expect(snapshot()).toEqual(before);
  });

  test("a scope that throws frees everything it created", () => {
    const before = snapshot();
    expect(() =>
      scope(() => {
        add(ones([4]), 1);
        throw new Error("fail inside scope");
      }),
    ).toThrow("fail inside scope");
    expect(snapshot()).toEqual(before);
  });

  test("keep() exempts a tensor from its scope; the caller owns it", () => {
    const before = snapshot();
    let k: Tensor | undefined;
    scope(() => {
      k = keep(mul(ones([5]), 3));
      add(k, 1);
    });
    expect(k!.isDisposed).toBe(false);
    expect(Array.from(k!.dataSync())).toEqual([3, 3, 3, 3, 3]);
    expect(snapshot().tensors).toBe(before.tensors + 1);
    k!.dispose();
    expect(snapshot()).toEqual(before);
  });

  test("`using` disposes at the end of the block (Symbol.dispose)", () => {
    expect(typeof Symbol.dispose).toBe("symbol");
    const before = snapshot();
    let seen: Tensor | undefined;
    {
      using t = ones([8]);
      using u = add(t, 1);
      seen = u;
      expect(snapshot().tensors).toBe(before.tensors + 2);
    }
    expect(seen.isDisposed).toBe(true);
    expect(snapshot()).toEqual(before);
    const v = ones([2]);
    v[Symbol.dispose]();
    expect(v.isDisposed).toBe(true);
  });

  test("Variables survive scopes; disposing them frees their values", () => {
    const before = snapshot();
    const v = scope(() => {
      const init = normal([3, 3], { seed: 2 });
      return new Variable(init, "w");
    });
    expect(v.isDisposed).toBe(false);
    expect(snapshot().tensors).toBe(before.tensors + 1);
    scope(() => v.assign(mul(v, 2)));
    expect(v.isDisposed).toBe(false);
    v.dispose();
    expect(snapshot()).toEqual(before);
  });

  test("two concurrent scopeAsync each free only their own tensors", async () => {
    const before = snapshot();
    let release!: () => void;
    const firstDone = new Promise<void>((resolve) => (release = resolve));
    const createdA: Tensor[] = [];
    const createdB: Tensor[] = [];

    const a = scopeAsync(async () => {
      const x = ones([2]);
      createdA.push(x);
      await tick();
      const y = add(x, 1);
      createdA.push(y);
      await tick();
      return mul(y, 10);
    });
    const b = scopeAsync(async () => {
      const x = ones([3]);
      createdB.push(x);
      await tick();
      const y = add(x, 2);
      createdB.push(y);
      await firstDone; // A closes while B's tensors are live
      expect(createdB.every((t) => !t.isDisposed)).toBe(true);
      const z = mul(y, x);
      createdB.push(z);
      await tick();
      return sum(z);
    });
    const ra = await a;
    expect(createdA.every((t) => t.isDisposed)).toBe(true);
    expect(createdB.every((t) => !t.isDisposed)).toBe(true);
    release();
    const rb = await b;
    expect(createdB.every((t) => t.isDisposed)).toBe(true);
    expect(Array.from(ra.dataSync())).toEqual([20, 20]);
    expect(rb.item()).toBe(9);
    ra.dispose();
    rb.dispose();
    expect(snapshot()).toEqual(before);
  });

  test("scopeAsync frees its tensors when it rejects", async () => {
    const before = snapshot();
    await expect(
      scopeAsync(async () => {
        add(ones([2]), 1);
        await tick();
        throw new Error("async failure");
      }),
    ).rejects.toThrow("async failure");
    expect(snapshot()).toEqual(before);
  });

  test("valueAndGrad frees every intermediate: only the value and the gradients remain", () => {
    const x = normal([4, 5], { seed: 3 });
    const w = normal([5, 3], { seed: 4 });
    const before = snapshot();
    const { value, grads } = valueAndGrad((a: Tensor, b: Tensor) => tanh(matmul(a, b)).square().mean())(x, w);
    expect(snapshot().tensors).toBe(before.tensors + 3);
    expect(snapshot().bytes).toBe(before.bytes + 4 * (1 + 20 + 15));
    value.dispose();
    for (const g of grads) g.dispose();
    expect(snapshot()).toEqual(before);
    x.dispose();
    w.dispose();
  });

  for (const [name, makeOptimizer] of [["adam", () => adam({ lr: 0.01 })], ["sgd with momentum", () => sgd({ lr: 0.05, momentum: 0.9 })]] as const) {
    test(`200 training steps (valueAndGradOf + ${name}) keep memory flat, and the loss falls`, () => {
      const x = normal([16, 4], { seed: 5 });
      const y = scope(() => tanh(matmul(x, normal([4, 2], { seed: 6 }))));
      const init = [normal([4, 8], { seed: 7, std: 0.5 }), zeros([8]), normal([8, 2], { seed: 8, std: 0.5 }), zeros([2])];
      const params = init.map((t, i) => new Variable(t, `p${i}`));
      for (const t of init) t.dispose();
      const opt = makeOptimizer();
      const step = (): number =>
        scope(() => {
          const { value, grads } = valueAndGradOf(() => {
            const h = tanh(add(matmul(x, params[0]!), params[1]!));
            return mse(y, add(matmul(h, params[2]!), params[3]!));
          }, params);
          opt.step(params, grads);
          return value.item();
        });
      const first = step(); // creates the optimizer's state
      const after1 = snapshot();
      let last = first;
      for (let i = 1; i < 200; i++) {
        last = step();
        if (i === 100) expect(snapshot(), "after 100 steps").toEqual(after1);
      }
      expect(snapshot(), "after 200 steps").toEqual(after1);
      expect(last).toBeLessThan(first * 0.5);
      opt.dispose();
      for (const t of [...params, x, y]) t.dispose();
    });
  }

  test("tensors created from values and read back do not leak backend buffers", async () => {
    const before = snapshot();
    for (let i = 0; i < 200; i++) {
      using t = tensor([i, i + 1, i + 2]);
      t.dataSync();
      await t.data();
    }
    expect(snapshot()).toEqual(before);
  });
});
