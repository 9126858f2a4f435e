import { ArgumentError, NeuriteError, ShapeError, fmtShape } from "../errors.js";
import { scopeState } from "./scope-state.js";
import { sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { scope } from "./scope.js";
import { noGrad, record } from "./record.js";
// backpropagation runs ops; the ops record through ./record.js, which imports none of them
import { onesLike, zerosLike } from "../ops/create.js";
import { add, clone } from "../ops/elementwise.js";

/** Reverse-mode sweep from `y` (seeded with `seed`, default ones) to the tensors in `wrt`. */
function backprop(y: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  // topological order of everything y depends on that requires grad
  const order: Tensor[] = [];
  const visited = new Set<number>();
  const stack: [Tensor, boolean][] = [[y, false]];
  while (stack.length) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (visited.has(t.id)) continue;
    visited.add(t.id);
    stack.push([t, true]);
    for (const i of t.node?.inputs ?? []) if (i.requiresGrad && !visited.has(i.id)) stack.push([i, false]);
  }
  const wanted = new Set(wrt.map((t) => t.id));
  const grads = new Map<number, Tensor>([[y.id, seed ?? onesLike(y)]]);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t.id);
      if (!g || !t.node) continue;
      for (const input of t.node.inputs) input.assertAlive(`gradient of ${t.node.op}`);
      const gs = t.node.backward(g);
      t.node.inputs.forEach((input, i) => {
        const gi = gs[i];
        if (!gi || !input.requiresGrad) return;
        if (!sameShape(gi.shape, input.shape)) {
          throw new ShapeError(`internal: gradient of ${t.node!.op} has shape ${fmtShape(gi.shape)} for an input of shape ${fmtShape(input.shape)}`);
        }
        const prev = grads.get(input.id);
        grads.set(input.id, prev ? add(prev, gi) : gi);
      });
      // an intermediate's gradient is not needed once passed on (the enclosing scope frees it)
      if (!wanted.has(t.id)) grads.delete(t.id);
    }
  });
  // one tensor may be the gradient of several inputs (x + y passes g to both): hand out distinct tensors
  const handedOut = new Set<Tensor>();
  return wrt.map((w) => {
    const g = grads.get(w.id);
    if (!g) return zerosLike(w);
    if (handedOut.has(g)) return noGrad(() => clone(g));
    handedOut.add(g);
    return g;
  });
}

function markWatched(ts: readonly Tensor[]): () => void {
  const before = ts.map((t) => t.requiresGrad);
  ts.forEach((t) => {
    t.assertAlive("valueAndGrad");
    t.requiresGrad = true;
  });
  return () => ts.forEach((t, i) => (t.requiresGrad = before[i]!));
}

function checkScalar(y: unknown, what: string): Tensor {
  const t = y as Tensor;
  if (!t || typeof t !== "object" || !("shape" in t)) throw new ArgumentError(`${what}: the function must return a Tensor, got ${typeof y}`);
  if (t.size !== 1) {
    throw new ShapeError(`${what}: the function must return a scalar (one element) to be differentiated, got shape ${fmtShape(t.shape)}; reduce it first, e.g. with mean()`);
  }
  return t;
}

/** The value of a scalar function and its gradients. */
export interface ValueAndGrads {
  readonly value: Tensor;
  /** One gradient per differentiated tensor, each of that tensor's shape. */
  readonly grads: Tensor[];
}

/**
 * `valueAndGrad(f)(...xs)` returns f(...xs) and the gradient of that scalar with respect to every argument.
 * Intermediate tensors are freed; the value and the gradients belong to the caller (or its scope).
 *
 * @example
 * const { value, grads: [dx] } = valueAndGrad((x: Tensor) => x.square().sum())(tensor([1, 2, 3]));
 */
export function valueAndGrad<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => ValueAndGrads {
  return (...args: A) => valueAndGradOf(() => f(...args), args);
}

/** The gradients of a scalar function with respect to every argument. */
export function grad<A extends Tensor[]>(f: (...args: A) => Tensor): (...args: A) => Tensor[] {
  return (...args: A) => {
    const { value, grads } = valueAndGradOf(() => f(...args), args);
    value.dispose();
    return grads;
  };
}

/**
 * The value of a scalar-valued closure and its gradients with respect to `wrt` (typically a model's
 * trainable variables): the building block of a hand-written training loop.
 */
export function valueAndGradOf(f: () => Tensor, wrt: readonly Tensor[]): ValueAndGrads {
  if (scopeState.noGradDepth > 0) throw new NeuriteError("valueAndGrad was called inside noGrad(); gradients cannot be recorded there");
  return scope(() => {
    const restore = markWatched(wrt);
    try {
      scopeState.recordingDepth++;
      let out: Tensor;
      try {
        out = f();
      } finally {
        scopeState.recordingDepth--;
      }
      const y = checkScalar(out, "valueAndGrad");
      const grads = backprop(y, wrt);
      y.node = undefined;
      y.requiresGrad = false;
      return { value: y, grads };
    } finally {
      restore();
    }
  });
}

/** A differentiable function with a hand-given vector-Jacobian product, in the style of JAX's custom_vjp. */
export interface CustomVjp<A extends Tensor[]> {
  /** Computes the output and whatever the backward pass needs (residuals). */
  forward(...args: A): { output: Tensor; residuals?: Tensor[] };
  /** Maps the output's gradient to each argument's gradient (undefined: none). */
  backward(g: Tensor, residuals: readonly Tensor[], ...args: A): readonly (Tensor | undefined)[];
}

/**
 * Makes a differentiable function from a forward pass and a hand-written backward pass.
 *
 * @example
 * const clippedIdentity = customVjp({
 *   forward: (x: Tensor) => ({ output: x.clone() }),
 *   backward: (g) => [g.clip(-1, 1)],
 * });
 */
export function customVjp<A extends Tensor[]>(fn: CustomVjp<A>, name = "customVjp"): (...args: A) => Tensor {
  return (...args: A) => {
    const tracking = scopeState.noGradDepth === 0 && args.some((t) => t.requiresGrad);
    const { output, residuals = [] } = noGrad(() => fn.forward(...args));
    if (!tracking) {
      for (const r of residuals) if (r !== output && !args.includes(r)) r.dispose();
      return output;
    }
    return record(output, name, args, (g) => fn.backward(g, residuals, ...args));
  };
}
