/**
 * Tensors that live on another backend than the active one: ops move them, gradients flow back to them,
 * variables take them over. Checked between two instances of the cpu backend (registered under two names,
 * so each has its own memory), and between cpu and every other available backend in both directions.
 */
import { cpuBackend } from "@neurite/backend-cpu";
import {
  type Tensor, Variable, add, concat, gather, getBackend, matmul, memory, mul, scope, setBackend, sum, tensor, use,
  valueAndGrad, valueAndGradOf,
} from "@neurite/core";
import { describe, expect, test } from "vitest";
import { expectClose, expectTensor } from "../src/assert.js";
import { BACKENDS, registerBackends } from "../src/backends.js";

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
      const b = tensor([[10, 20], [30, 40]]);
      expectTensor(add(a, b), [2, 2], [11, 22, 33, 44]);
      expectTensor(matmul(a, b), [2, 2], [70, 100, 150, 220]);
      expectTensor(matmul(b, a), [2, 2], [70, 100, 150, 220]);
      expectTensor(concat([a, b]), [4, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
      expectTensor(gather(a, [1]), [1, 2], [3, 4]);
      expectTensor(sum(a, 1), [2], [3, 7]);
    });
    // the original stays on its backend, untouched
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
    expect(memory()).toEqual(toBefore);
    await setBackend(from);
    expect(memory()).toEqual(fromBefore);
    a.dispose();
  });
});
