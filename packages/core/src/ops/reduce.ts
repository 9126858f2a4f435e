import type { ReduceOp } from "../backend/contract.js";
import { noGrad, record } from "../autograd/tape.js";
import { binary, input, unary, where as select } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { Storage, engine } from "../tensor/engine.js";
import { normalizeAxes, normalizeAxis, sameShape, sizeOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { div, equal, exp, mul, sub } from "./elementwise.js";
import { fused, onActiveBackend } from "./fused.js";
import { broadcastTo, reshape, transpose } from "./shape-ops.js";

type Axes = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Runs the backend's reduce over `axes` (moving them last first when they are not adjacent). */
function reduceKernel(op: ReduceOp, x: Tensor, axes: readonly number[], name: string, keepDims = false): Tensor {
  const backend = engine.backend;
  x = onActiveBackend(x, name);
  const outShape = keepDims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
  const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  let src = x;
  let outer: number, size: number, inner: number;
  if (axes.length === 0) {
    outer = x.size; size = 1; inner = 1;
  } else if (adjacent) {
    outer = sizeOf(x.shape.slice(0, axes[0]));
    size = sizeOf(axes.map((a) => x.shape[a]!));
    inner = sizeOf(x.shape.slice(axes[axes.length - 1]! + 1));
  } else {
    const rest = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    src = noGrad(() => transpose(x, [...rest, ...axes]));
    outer = sizeOf(rest.map((i) => x.shape[i]!)); size = sizeOf(axes.map((a) => x.shape[a]!)); inner = 1;
  }
  if ((op === "argmax" || op === "argmin") && size === 0) {
    throw new ArgumentError(`${name}: cannot take ${op} over an empty axis of a tensor of shape ${fmtShape(x.shape)}`);
  }
  const out = backend.alloc(outer * inner);
  backend.reduce({ op, x: src.storage.id, outer, size, inner, out });
  if (src !== x) src.dispose();
  return new Tensor(new Storage(backend, out, outer * inner), outShape);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, "sum");
  const y = reduceKernel("sum", x, ax, "sum", keepDims);
  return record(y, "sum", [x], (g) => [broadcastTo(reshape(g, keptShape(x.shape, ax)), x.shape)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, "mean");
  const scale = 1 / sizeOf(ax.map((a) => x.shape[a]!));
  const y = noGrad(() => {
    const s = reduceKernel("sum", x, ax, "mean", keepDims);
    const m = mul(s, scale);
    s.dispose();
    return m;
  });
  return record(y, "mean", [x], (g) => [mul(broadcastTo(reshape(g, keptShape(x.shape, ax)), x.shape), scale)]);
}

function extremum(op: "max" | "min", x: Tensor, axes: Axes, keepDims: boolean): Tensor {
  const ax = normalizeAxes(axes, x.rank, op);
  const y = reduceKernel(op, x, ax, op, keepDims);
  // the gradient goes to the extreme elements, split evenly between ties (as torch.amax)
  return record(y, op, [x], (g) => {
    const shape = keptShape(x.shape, ax);
    const mask = equal(x, reshape(y, shape));
    const count = sum(mask, ax, true);
    return [mul(div(mask, count), reshape(g, shape))];
  });
}

/** Maximum over `axes`; NaN propagates. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum("max", x, axes, keepDims);
}

/** Minimum over `axes`; NaN propagates. */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return extremum("min", x, axes, keepDims);
}

/** Index of the first maximum along `axis` (as float32 values); no gradient. */
export function argmax(x: Tensor, axis = -1): Tensor {
  return reduceKernel("argmax", x, [normalizeAxis(axis, x.rank, "argmax")], "argmax");
}

/** Index of the first minimum along `axis`; no gradient. */
export function argmin(x: Tensor, axis = -1): Tensor {
  return reduceKernel("argmin", x, [normalizeAxis(axis, x.rank, "argmin")], "argmin");
}

/**
 * log Σ exp(x) over `axes`, computed stably (the max is taken out first, and an infinite max is handled so
 * that rows with −Infinity entries stay exact). The gradient is softmax(x).
 */
export function logSumExp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const ax = normalizeAxes(axes, x.rank, "logSumExp");
  const shape = keptShape(x.shape, ax);
  const y = noGrad(() => {
    const m = reduceKernel("max", x, ax, "logSumExp", true);
    // a ±Infinity max would give inf − inf = NaN below; shift by 0 instead (as torch.logsumexp)
    const shift = fused("logSumExp", select(binary("eq", unary("abs", input(0)), Infinity), 0, input(0)), [m]);
    const e = fused("logSumExp", unary("exp", binary("sub", input(0), input(1))), [x, shift]);
    const s = reduceKernel("sum", e, ax, "logSumExp", true);
    const kept = fused("logSumExp", binary("add", unary("log", input(0)), input(1)), [s, shift]);
    const out = keepDims ? kept : reshape(kept, x.shape.filter((_, i) => !ax.includes(i)));
    for (const t of [m, shift, e, s, kept]) if (t !== out) t.dispose();
    return out;
  });
  return record(y, "logSumExp", [x], (g) => [mul(exp(sub(x, reshape(y, shape))), reshape(g, shape))]);
}

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting). */
export function sumTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = t.rank - shape.length;
  if (lead < 0) throw new ShapeError(`sumTo: cannot reduce ${fmtShape(t.shape)} to the larger rank of ${fmtShape(shape)}`);
  const axes: number[] = [];
  t.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(sum(t, axes), shape);
}
