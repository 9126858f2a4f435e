/** The autograd API on every backend: valueAndGrad, grad, valueAndGradOf, customVjp, noGrad, accumulation, errors. */
import {
  NeuriteError, ShapeError, type Tensor, Variable, add, argmax, argmin, customVjp, exp, grad, less, matmul, max, maximum, memory, mul,
  noGrad, oneHot, scope, stopGradient, sub, sum, tanh, tensor, valueAndGrad, valueAndGradOf, zeros,
} from "@neurite/core";
import { expect, test } from "vitest";
import { expectClose, expectTensor } from "../src/assert.js";
import { forEachBackend } from "../src/backends.js";

forEachBackend("autograd API", () => {
  test("valueAndGrad returns the value and one gradient per argument", () => {
    const x = tensor([1, 2, 3]);
    const y = tensor([4, 5, 6]);
    const { value, grads } = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(a, b)))(x, y);
    expect(value.item()).toBe(32);
    expect(grads).toHaveLength(2);
    expectTensor(grads[0]!, [3], [4, 5, 6]);
    expectTensor(grads[1]!, [3], [1, 2, 3]);
    // the value carries no graph: it is a plain tensor the caller owns
    expect(value.requiresGrad).toBe(false);
    expect(x.requiresGrad).toBe(false);
  });

  test("grad returns only the gradients", () => {
    const [g] = grad((a: Tensor) => sum(mul(a, a)))(tensor([[1, -2], [3, 0.5]]));
    expectTensor(g!, [2, 2], [2, -4, 6, 1]);
  });

  test("valueAndGradOf differentiates a closure with respect to variables", () => {
    const w = new Variable(tensor([[1, 2], [3, 4]]), "w");
    const b = new Variable(tensor([0.5, -0.5]), "b");
    const x = tensor([[1, 1]]);
    const { value, grads } = valueAndGradOf(() => sum(add(matmul(x, w), b)), [w, b]);
    expect(value.item()).toBe(10);
    expectTensor(grads[0]!, [2, 2], [1, 1, 1, 1]);
    expectTensor(grads[1]!, [2], [1, 1]);
    // a tensor the closure does not use gets a zero gradient of its shape
    const unused = tensor([1, 2, 3]);
    const r = valueAndGradOf(() => sum(w), [w, unused]);
    expectTensor(r.grads[1]!, [3], [0, 0, 0]);
  });

  test("a tensor used several times accumulates its gradient", () => {
    const x = tensor([0.5, -1.5]);
    // f = x·x + 3x + exp(x)  →  f' = 2x + 3 + exp(x)
    const [g] = grad((a: Tensor) => sum(add(add(mul(a, a), mul(a, 3)), exp(a))))(x);
    expectClose(g!.dataSync(), [0.5, -1.5].map((v) => 2 * v + 3 + Math.exp(v)));
    // the same tensor passed twice: gradients are per tensor, not per position (as torch.autograd.grad),
    // so both entries hold the total derivative d(2x²)/dx = 4x
    const { grads } = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(a, mul(b, 2))))(x, x);
    expectClose(grads[0]!.dataSync(), [2, -6]);
    expectClose(grads[1]!.dataSync(), [2, -6]);
  });

  test("a diamond graph (one input reaching the output by two paths) gets both contributions", () => {
    const x = tensor([0.3]);
    // y = tanh(x)·exp(x) + tanh(x) → y' = (1 − t²)(eˣ + 1) + t·eˣ
    const [g] = grad((a: Tensor) => {
      const t = tanh(a);
      return sum(add(mul(t, exp(a)), t));
    })(x);
    const t = Math.tanh(0.3);
    expectClose(g!.dataSync(), [(1 - t * t) * (Math.exp(0.3) + 1) + t * Math.exp(0.3)]);
  });

  test("customVjp: forward residuals reach the backward, and its gradient is used", () => {
    let seen: number[] | undefined;
    let forwardCalls = 0;
    // y = x³ with a hand-written backward 3x² that reads x² from the forward's residuals
    const cube = customVjp({
      forward: (x: Tensor) => {
        forwardCalls++;
        const sq = mul(x, x);
        return { output: mul(sq, x), residuals: [sq] };
      },
      backward: (g, [sq], x) => {
        seen = Array.from(sq!.dataSync());
        expect(x.shape).toEqual([2]);
        return [mul(g, mul(sq!, 3))];
      },
    });
    const x = tensor([2, -1]);
    const { value, grads } = valueAndGrad((a: Tensor) => sum(cube(a)))(x);
    expect(value.item()).toBe(7);
    expect(seen).toEqual([4, 1]);
    expectTensor(grads[0]!, [2], [12, 3]);
    expect(forwardCalls).toBe(1);
    // a hand-given gradient that differs from the true one is what autograd returns (clipped identity)
    const clipped = customVjp({ forward: (a: Tensor) => ({ output: a.clone() }), backward: (g) => [g.clip(-1, 1)] });
    const [gc] = grad((a: Tensor) => sum(mul(clipped(a), 5)))(tensor([1, 2]));
    expectTensor(gc!, [2], [1, 1]);
  });

  test("customVjp outside a gradient frees its residuals", () => {
    const x = tensor([1, 2]);
    const f = customVjp({
      forward: (a: Tensor) => ({ output: mul(a, 2), residuals: [add(a, 1), exp(a)] }),
      backward: (g) => [g],
    });
    const before = memory();
    const y = f(x);
    expect(memory().tensors).toBe(before.tensors + 1);
    expectTensor(y, [2], [2, 4]);
  });

  test("noGrad: nothing inside it is recorded, and valueAndGrad refuses to run in it", () => {
    const x = tensor([1, 2]);
    const { grads } = valueAndGradOf(() => {
      const frozen = noGrad(() => mul(x, 10)); // a constant as far as the gradient is concerned
      return sum(add(mul(frozen, x), x));
    }, [x]);
    expectTensor(grads[0]!, [2], [11, 21]);
    expect(() => noGrad(() => valueAndGrad((a: Tensor) => sum(a))(x))).toThrow(/inside noGrad/);
    // stopGradient is the per-tensor form
    const [g] = grad((a: Tensor) => sum(mul(stopGradient(a), a)))(x);
    expectTensor(g!, [2], [1, 2]);
  });

  test("ops without a gradient (comparisons, oneHot, argmax, argmin) pass none", () => {
    const x = tensor([0.2, 0.8]);
    const [g] = grad((a: Tensor) => sum(add(less(a, 0.5), mul(oneHot([1, 0], 2), 0))))(x);
    expectTensor(g!, [2], [0, 0]);
    expectTensor(grad((a: Tensor) => sum(add(argmax(a), argmin(a))))(x)[0]!, [2], [0, 0]);
    // an index used as a coefficient is a constant: d/dx (argmax(x) · Σx) = argmax(x)
    expectTensor(grad((a: Tensor) => sum(mul(argmax(a), a)))(tensor([1, 3, 2]))[0]!, [3], [1, 1, 1]);
  });

  test("kinks: max/maximum ties split the gradient evenly; abs, clip follow PyTorch", () => {
    expectTensor(grad((a: Tensor) => max(a))(tensor([1, 3, 3]))[0]!, [3], [0, 0.5, 0.5]);
    expectTensor(grad((a: Tensor) => max(a, 1).sum())(tensor([[2, 2, 2], [1, 5, 0]]))[0]!, [2, 3], [1 / 3, 1 / 3, 1 / 3, 0, 1, 0]);
    expectTensor(grad((a: Tensor, b: Tensor) => sum(maximum(a, b)))(tensor([1, 2, 3]), tensor([1, 1, 4]))[0]!, [3], [0.5, 1, 0]);
    expectTensor(grad((a: Tensor) => sum(a.abs()))(tensor([-2, 0, 2]))[0]!, [3], [-1, 0, 1]);
    expectTensor(grad((a: Tensor) => sum(a.clip(0, 1)))(tensor([-1, 0, 0.5, 1, 2]))[0]!, [5], [0, 1, 1, 1, 0]);
  });

  test("differentiating a non-scalar output is an error that says how to fix it", () => {
    const x = tensor([1, 2]);
    expect(() => valueAndGrad((a: Tensor) => mul(a, 2))(x)).toThrow(ShapeError);
    expect(() => valueAndGrad((a: Tensor) => mul(a, 2))(x)).toThrow(/must return a scalar \(one element\).*got shape \[2\].*mean\(\)/);
    expect(() => valueAndGrad((() => 3) as never)(x)).toThrow(/must return a Tensor, got number/);
    // a one-element tensor of any rank is a scalar
    expectTensor(grad((a: Tensor) => sum(a, 0, true))(x)[0]!, [2], [1, 1]);
  });

  test("a tensor disposed before the backward pass is an error naming the op", () => {
    const x = tensor([1, 2]);
    expect(() =>
      valueAndGrad((a: Tensor) => {
        const h = mul(a, 3);
        const out = sum(exp(h));
        h.dispose(); // exp's backward needs h
        return out;
      })(x),
    ).toThrow(NeuriteError);
    expect(() =>
      valueAndGrad((a: Tensor) => {
        const h = mul(a, 3);
        const out = sum(exp(h));
        h.dispose();
        return out;
      })(x),
    ).toThrow(/gradient of exp: tensor \[2\] was already disposed/);
    // a disposed argument is refused up front
    const y = tensor([1]);
    y.dispose();
    expect(() => valueAndGrad((a: Tensor) => sum(a))(y)).toThrow(/already disposed/);
    expect(() => y.dataSync()).toThrow(/dataSync: tensor \[1\] was already disposed/);
  });

  test("a failing function leaves requiresGrad flags and memory as they were", () => {
    const x = tensor([1, 2]);
    const before = memory();
    expect(() =>
      valueAndGrad((a: Tensor) => {
        mul(a, 2);
        throw new Error("boom");
      })(x),
    ).toThrow("boom");
    expect(x.requiresGrad).toBe(false);
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
  });

  test("a scope inside the differentiated function keeps the graph for the backward pass, and frees the rest", () => {
    const x = tensor([1, 2]);
    const before = memory().tensors;
    const { value, grads } = valueAndGrad((a: Tensor) => scope(() => {
      tensor([7, 8, 9]); // not part of the graph: freed when the scope closes
      return sum(exp(mul(a, 2)));
    }))(x);
    // d/da Σ exp(2a) = 2·exp(2a)
    const [g0, g1] = grads[0]!.dataSync();
    expect(g0).toBeCloseTo(2 * Math.exp(2), 4);
    expect(g1).toBeCloseTo(2 * Math.exp(4), 4);
    expect(value.item()).toBeCloseTo(Math.exp(2) + Math.exp(4), 4);
    expect(memory().tensors).toBe(before + 2);
  });

  test("gradients flow through every kind of op in one graph", () => {
    // a small network by hand: mean((tanh(x·W + b) − y)²)
    const x = tensor([[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]]);
    const w = tensor([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]]);
    const b = tensor([0.05, -0.05]);
    const y = tensor([[0.1, 0.2], [-0.3, 0.4]]);
    const loss = (wt: Tensor, bt: Tensor) => sub(tanh(add(matmul(x, wt), bt)), y).square().mean();
    const { value, grads } = valueAndGrad(loss)(w, b);
    // float64 reference of the same network and its hand-derived gradient
    const X = [[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]].map((r) => r.map(Math.fround));
    const W = [[0.2, -0.1], [0.4, 0.3], [-0.5, 0.1]].map((r) => r.map(Math.fround));
    const B = [0.05, -0.05].map(Math.fround);
    const Y = [[0.1, 0.2], [-0.3, 0.4]].map((r) => r.map(Math.fround));
    let L = 0;
    const dW = [[0, 0], [0, 0], [0, 0]];
    const dB = [0, 0];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const z = X[i]!.reduce((s, v, k) => s + v * W[k]![j]!, B[j]!);
        const t = Math.tanh(z);
        L += (t - Y[i]![j]!) ** 2 / 4;
        const dz = (2 * (t - Y[i]![j]!) * (1 - t * t)) / 4;
        dB[j]! += dz;
        for (let k = 0; k < 3; k++) dW[k]![j]! += X[i]![k]! * dz;
      }
    }
    expectClose([value.item()], [L]);
    expectClose(grads[0]!.dataSync(), dW.flat());
    expectClose(grads[1]!.dataSync(), dB);
    expect(zeros([1]).requiresGrad).toBe(false);
  });
});
