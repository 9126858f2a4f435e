import { type BinaryOp, type Expr, type UnaryOp, binary, input, scalar, unary, where as select } from "../expr/expr.js";
import { noGrad } from "../autograd/tape.js";
import { ArgumentError } from "../errors.js";
import { Tensor } from "../tensor/tensor.js";
import { fused } from "./fused.js";

/** A tensor, or a number used as a scalar operand. */
export type Operand = Tensor | number;

/**
 * Builds the kernel for an op over mixed tensor/number operands: tensors become inputs, numbers become
 * run-time scalars (so `x.mul(lr)` compiles once for every learning rate).
 */
export function mapOperands(op: string, operands: readonly Operand[], build: (...leaves: Expr[]) => Expr): Tensor {
  const tensors: Tensor[] = [];
  const scalars: number[] = [];
  const leaves = operands.map((o) => {
    if (o instanceof Tensor) return input(tensors.push(o) - 1);
    if (typeof o !== "number") throw new ArgumentError(`${op}: operands must be tensors or numbers, got ${typeof o}`);
    return scalar(scalars.push(o) - 1);
  });
  if (tensors.length === 0) throw new ArgumentError(`${op}: at least one operand must be a tensor`);
  return fused(op, build(...leaves), tensors, scalars);
}

const un = (op: UnaryOp) => (x: Tensor): Tensor => mapOperands(op, [x], (a) => unary(op, a));
const bin = (op: BinaryOp) => (a: Operand, b: Operand): Tensor => mapOperands(op, [a, b], (x, y) => binary(op, x, y));

/** a + b with broadcasting. */
export const add = bin("add");
/** a − b with broadcasting. */
export const sub = bin("sub");
/** a · b elementwise with broadcasting. */
export const mul = bin("mul");
/** a / b with broadcasting. */
export const div = bin("div");
/** aᵇ elementwise. */
export const pow = bin("pow");
/** Elementwise maximum; NaN propagates; a tie splits the gradient evenly (as PyTorch). */
export const maximum = bin("max");
/** Elementwise minimum; NaN propagates. */
export const minimum = bin("min");
/** 1 where a < b, else 0 (no gradient). */
export const less = bin("lt");
export const lessEqual = bin("le");
export const greater = bin("gt");
export const greaterEqual = bin("ge");
export const equal = bin("eq");
export const notEqual = bin("ne");

export const neg = un("neg");
export const abs = un("abs");
/** −1, 0 or 1 (NaN for NaN). */
export const sign = un("sign");
export const exp = un("exp");
/** eˣ − 1, accurate near 0. */
export const expm1 = un("expm1");
export const log = un("log");
/** log(1 + x), accurate near 0. */
export const log1p = un("log1p");
export const sqrt = un("sqrt");
export const tanh = un("tanh");
/** 1 / (1 + e⁻ˣ), stable for every input. */
export const sigmoid = un("sigmoid");
export const erf = un("erf");
export const floor = un("floor");
/** 1 where x is NaN, else 0. */
export const isNaN = un("isnan");

/** x² */
export function square(x: Tensor): Tensor {
  return mapOperands("square", [x], (a) => binary("mul", a, a));
}

/** cond ? a : b elementwise, with broadcasting; cond is true where it is neither 0 nor NaN. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return mapOperands("where", [cond, a, b], (c, x, y) => select(c, x, y));
}

/** Clamps into [lo, hi]; NaN stays NaN; the gradient is 1 strictly inside and 0 outside. */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new ArgumentError(`clip: lo must be <= hi, got lo=${lo}, hi=${hi}`);
  return mapOperands("clip", [x, lo, hi], (v, l, h) => select(binary("lt", v, l), l, select(binary("gt", v, h), h, v)));
}

/** A copy of x (same values, new storage). */
export function clone(x: Tensor): Tensor {
  return fused("clone", input(0), [x]);
}

/** x with gradients stopped: a copy through which no gradient flows. */
export function stopGradient(x: Tensor): Tensor {
  return noGrad(() => clone(x));
}

/**
 * Runs a user expression as one fused kernel over tensors: the escape hatch for custom elementwise math,
 * with the gradient derived symbolically.
 *
 * @example
 * // softsign x / (1 + |x|) in one pass
 * const y = elementwise((x) => x.div(x.abs().add(1)), [t]);
 */
export function elementwise(build: (...inputs: Expr[]) => Expr, tensors: readonly Tensor[], name = "elementwise"): Tensor {
  return fused(name, build(...tensors.map((_, i) => input(i))), tensors);
}
