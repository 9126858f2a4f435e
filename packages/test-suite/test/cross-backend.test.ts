/**
 * Tensors that live on another backend than the active one: ops move them, gradients flow back to them,
 * variables take them over. Checked between two instances of the cpu backend (registered under two names,
 * so each has its own memory), and between cpu and every other available backend in both directions.
 */
import { cpuBackend } from "@neurite/backend-cpu";
import {
  type MemoryInfo, type Tensor, Variable, add, concat, gather, getBackend, matmul, memory, mul, scope, setBackend, sum, tensor, use,
  valueAndGrad, valueAndGradOf,
} from "@neurite/core";
import { describe, expect, test } from "vitest";
import { expectClose, expectTensor, maxAbs } from "../src/assert.js";
import { BACKENDS, registerBackends } from "../src/backends.js";
import { rand } from "../src/cases.js";
import * as R from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

registerBackends();
use({ ...cpuBackend, name: "cpu-second" });

const PAIRS: [string, string][] = [["cpu", "cpu-second"], ...BACKENDS.filter((b) => b !== "cpu").flatMap((b): [string, string][] => [["cpu", b], [b, "cpu"]])];

describe.each(PAIRS)("tensors from %s used on %s", (from, to) => {
  test("elementwise ops, matmul, concat and gather read a tensor from the other backend", async () => {
    await setBackend(from);
    const a = tensor([[1, 2], [3, 4]]);
    const origin = getBackend();
    await setBackend(to);
    expect(getBackend()).not.toBe(origin);
    scope(() => {
      // b is random and independent of a, so a·b ≠ b·a: an op that swapped or transposed its operands would fail
      const bNd = rand(new TestRng(2024), [2, 2], -3, 3);
      const aNd = R.nd([2, 2], [1, 2, 3, 4]);
      const b = fromNd(bNd);
      const [ab, ba] = [R.matmul(aNd, bNd), R.matmul(bNd, aNd)];
      expect(maxAbs(R.map((u, v) => u - v, ab, ba).data), "the two products differ").toBeGreaterThan(0.5);
      expectTensor(add(a, b), [2, 2], R.map((u, v) => u + v, aNd, bNd).data);
      expectTensor(matmul(a, b), [2, 2], ab.data);
      expectTensor(matmul(b, a), [2, 2], ba.data);
      expectTensor(concat([a, b]), [4, 2], [1, 2, 3, 4, ...bNd.data]);
      expectTensor(gather(b, [1]), [1, 2], bNd.data.slice(2));
      expectTensor(sum(a, 1), [2], [3, 7]);
    });
    // the original moved to the active backend with its values (it is the same tensor object)
    expect(a.backend).toBe(getBackend());
    expectTensor(a, [2, 2], [1, 2, 3, 4]);
    a.dispose();
  });

  test("gradients flow back to a tensor that lives on the other backend", async () => {
    await setBackend(from);
    const x = tensor([1, -2, 3]);
    await setBackend(to);
    const { value, grads } = valueAndGrad((t: Tensor) => sum(mul(t, t)))(x);
    expect(value.item()).toBe(14);
    expectTensor(grads[0]!, [3], [2, -4, 6]);
    // and through matmul with one operand on each backend
    const w = tensor([[1], [2], [3]]);
    const r = valueAndGradOf(() => sum(matmul(x.reshape([1, 3]), w)), [x, w]);
    expectTensor(r.grads[0]!, [3], [1, 2, 3]);
    expectTensor(r.grads[1]!, [3, 1], [1, -2, 3]);
    // leave nothing for the garbage collector (see "moving inside a scope leaks nothing")
    for (const t of [x, w, value, ...grads, r.value, ...r.grads]) t.dispose();
  });

  test("a Variable made from the other backend's tensor lives on the active one", async () => {
    await setBackend(from);
    const init = tensor([5, 6]);
    await setBackend(to);
    const v = new Variable(init, "moved");
    init.dispose();
    expect(v.isDisposed).toBe(false);
    expectClose(v.dataSync(), [5, 6]);
    const next = tensor([7, 8]);
    v.assign(next);
    next.dispose();
    expectClose(v.dataSync(), [7, 8]);
    v.dispose();
  });

  test("moving inside a scope leaks nothing on either backend", async () => {
    await setBackend(from);
    const a = tensor([1, 2, 3]);
    const fromBefore = memory();
    await setBackend(to);
    const toBefore = memory();
    scope(() => {
      add(a, 1);
      valueAndGrad((t: Tensor) => sum(mul(t, 2)))(a);
    });
    // a itself moved (12 bytes from one backend to the other); nothing else is left on either
    const expectShifted = (before: MemoryInfo, by: number): void => {
      const after = memory();
      expect([after.tensors, after.bytes]).toEqual([before.tensors, before.bytes]);
      expect(after.backend).toEqual({ ...before.backend!, bytes: before.backend!.bytes + by, buffers: before.backend!.buffers + Math.sign(by) });
    };
    expectShifted(toBefore, 12);
    await setBackend(from);
    expectShifted(fromBefore, -12);
    a.dispose();
  });
});
