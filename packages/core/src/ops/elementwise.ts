import { type BinaryOp, type Expr, type UnaryOp, binary, input, scalar, unary, where as whereExpr } from "../expr/expr.js";
import { noGrad } from "../autograd/record.js";
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

const unaryOp = (op: UnaryOp) => (x: Tensor): Tensor => mapOperands(op, [x], (a) => unary(op, a));
const binaryOp = (op: BinaryOp) => (a: Operand, b: Operand): Tensor => mapOperands(op, [a, b], (x, y) => binary(op, x, y));

/** a + b with broadcasting. */
export const add = binaryOp("add");
/** a − b with broadcasting. */
export const sub = binaryOp("sub");
/** a · b elementwise with broadcasting. */
export const mul = binaryOp("mul");
/** a / b with broadcasting. */
export const div = binaryOp("div");
/** aᵇ elementwise. */
export const pow = binaryOp("pow");
/** Elementwise maximum; NaN propagates; a tie splits the gradient evenly (as PyTorch). */
export const maximum = binaryOp("max");
/** Elementwise minimum; NaN propagates. */
export const minimum = binaryOp("min");
/** 1 where a < b, else 0 (no gradient). */
export const less = binaryOp("lt");
export const lessEqual = binaryOp("le");
export const greater = binaryOp("gt");
export const greaterEqual = binaryOp("ge");
export const equal = binaryOp("eq");
export const notEqual = binaryOp("ne");

export const neg = unaryOp("neg");
export const abs = unaryOp("abs");
/** −1, 0 or 1 (NaN for NaN). */
export const sign = unaryOp("sign");
export const exp = unaryOp("exp");
/** eˣ − 1, accurate near 0. */
export const expm1 = unaryOp("expm1");
export const log = unaryOp("log");
/** log(1 + x), accurate near 0. */
export const log1p = unaryOp("log1p");
export const sqrt = unaryOp("sqrt");
export const tanh = unaryOp("tanh");
/** 1 / (1 + e⁻ˣ), stable for every input. */
export const sigmoid = unaryOp("sigmoid");
export const erf = unaryOp("erf");
export const floor = unaryOp("floor");
/** 1 where x is NaN, else 0. */
export const isNaN = unaryOp("isnan");
export const sin = unaryOp("sin");
export const cos = unaryOp("cos");
export const tan = unaryOp("tan");
/** Arctangent, in (−π/2, π/2). */
export const atan = unaryOp("atan");
/** sinh x; ±∞ only where the true value exceeds float32. */
export const sinh = unaryOp("sinh");
/** cosh x; ∞ only where the true value exceeds float32. */
export const cosh = unaryOp("cosh");
/** asinh x, finite for every finite x. */
export const asinh = unaryOp("asinh");
/** atanh x: ±∞ at ±1, NaN beyond. */
export const atanh = unaryOp("atanh");
/** 1/x. */
export const reciprocal = unaryOp("reciprocal");
/** 1/√x. */
export const rsqrt = unaryOp("rsqrt");
/** 2ˣ. */
export const exp2 = unaryOp("exp2");
export const log2 = unaryOp("log2");
/** Nearest integer, ties to even (as torch.round); no gradient. */
export const round = unaryOp("round");
/** Rounds toward 0; no gradient. */
export const trunc = unaryOp("trunc");
/** √(a² + b²) with broadcasting, without overflow or underflow of the squares; gradient (a, b)/hypot, 0 at (0, 0). */
export const hypot = binaryOp("hypot");

/** x² */
export function square(x: Tensor): Tensor {
  return mapOperands("square", [x], (a) => binary("mul", a, a));
}

/** cond ? a : b elementwise, with broadcasting; cond is true where it is neither 0 nor NaN. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  return mapOperands("where", [cond, a, b], (c, x, y) => whereExpr(c, x, y));
}

/** Clamps into [lo, hi]; NaN stays NaN; the gradient is 1 strictly inside and 0 outside. */
export function clip(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new ArgumentError(`clip: lo must be <= hi, got lo=${lo}, hi=${hi}`);
  return mapOperands("clip", [x, lo, hi], (v, l, h) => whereExpr(binary("lt", v, l), l, whereExpr(binary("gt", v, h), h, v)));
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
