import { noGrad, record } from "../autograd/record.js";
import { binary, input, unary, where as whereExpr } from "../expr/expr.js";
import { normalizeAxes, normalizeAxis, sameShape, sizeOf } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { div, equal, exp, mul, sub } from "./elementwise.js";
import { fused } from "./fused.js";
import { keptShape, reduceKernel, sumToAxes } from "./kernel.js";
import { broadcastTo, reshape } from "./shape-ops.js";

type Axes = number | readonly number[] | undefined;

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
    const shift = fused("logSumExp", whereExpr(binary("eq", unary("abs", input(0)), Infinity), 0, input(0)), [m]);
    const e = fused("logSumExp", unary("exp", binary("sub", input(0), input(1))), [x, shift]);
    const s = reduceKernel("sum", e, ax, "logSumExp", true);
    const kept = fused("logSumExp", binary("add", unary("log", input(0)), input(1)), [s, shift]);
    const out = keepDims ? kept : reshape(kept, x.shape.filter((_, i) => !ax.includes(i)));
    for (const t of [m, shift, e, s, kept]) if (t !== out) t.dispose();
    return out;
  });
  return record(y, "logSumExp", [x], (g) => {
    // softmax as e/Σe with e = exp(x − shift), never exp(x − y): y rounded to float32 loses the digits of a
    // large row (the gradient at [2e7, 2e7] came out [1, 1], not [0.5, 0.5])
    const shift = noGrad(() => {
      const m = reduceKernel("max", x, ax, "logSumExp", true);
      const finite = fused("logSumExp", whereExpr(binary("eq", unary("abs", input(0)), Infinity), 0, input(0)), [m]);
      m.dispose();
      return finite;
    });
    const e = exp(sub(x, shift));
    return [mul(div(e, sum(e, ax, true)), reshape(g, shape))];
  });
}

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting). */
export function sumTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  return reshape(sum(t, sumToAxes(t.shape, shape)), shape);
}
