/**
 * Lowers Neurite's elementwise expression language to ONNX operators, one table entry per primitive. Every
 * entry keeps the primitive's float32 semantics: NaN in gives NaN out, min/max propagate NaN, comparisons are
 * false for NaN, and expm1 / log1p / hypot keep their accuracy where the textbook forms cancel or overflow.
 */
import type { BinaryOp, Expr, UnaryOp } from "@neurite/core";
import { OnnxError } from "./errors.js";
import type { GraphBuilder } from "./graph.js";

/** A lowered value: a float32 tensor, or a boolean one (what comparisons give, what `Where` takes). */
export interface Value {
  readonly name: string;
  readonly bool: boolean;
}

const f = (name: string): Value => ({ name, bool: false });
const b = (name: string): Value => ({ name, bool: true });

/** Emits nodes into a graph, naming them under one prefix (the layer). */
export class Emitter {
  constructor(readonly g: GraphBuilder, readonly prefix: string) {}
  op(type: string, inputs: readonly string[], attributes: Parameters<GraphBuilder["node"]>[3] = {}): string {
    return this.g.node(type, inputs, this.prefix, attributes);
  }
  c(value: number): string {
    return this.g.scalar(value);
  }
  /** A float tensor from a value: booleans become 1 / 0. */
  float(v: Value): string {
    return v.bool ? this.op("Cast", [v.name], { to: { int: 1 } }) : v.name;
  }
  /** A boolean condition from a value: true where neither 0 nor NaN (|v| > 0 is false for both). */
  cond(v: Value): string {
    return v.bool ? v.name : this.op("Greater", [this.op("Abs", [v.name]), this.c(0)]);
  }
  where(cond: string, a: string, b2: string): string {
    return this.op("Where", [cond, a, b2]);
  }
  isNaN(a: string): string {
    return this.op("IsNaN", [a]);
  }
  /** a where either operand is NaN, else `value`: restores NaN propagation that ONNX Runtime's Min/Max drop. */
  nanFrom(a: string, b2: string, value: string): string {
    const either = this.op("Or", [this.isNaN(a), this.isNaN(b2)]);
    return this.where(either, this.op("Add", [a, b2]), value);
  }
}

type UnaryLowering = (e: Emitter, a: string) => Value;
type BinaryLowering = (e: Emitter, a: string, b: string) => Value;

const simple = (type: string): UnaryLowering => (e, a) => f(e.op(type, [a]));

/**
 * expm1(x) by Kahan's trick: with u = exp(x) rounded, (u − 1)·(x / log u) is accurate to a few ulp near 0, where
 * exp(x) − 1 cancels. u = 1 gives x itself; u − 1 = −1 (x below about −17, where u may be subnormal and its log
 * inexact) gives −1; u = ∞ gives ∞ (x / log u would be NaN there).
 */
function expm1(e: Emitter, x: string): Value {
  const u = e.op("Exp", [x]);
  const um1 = e.op("Sub", [u, e.c(1)]);
  const kahan = e.op("Mul", [um1, e.op("Div", [x, e.op("Log", [u])])]);
  const atInf = e.where(e.op("IsInf", [u]), u, kahan);
  const atMinusOne = e.where(e.op("Equal", [um1, e.c(-1)]), e.c(-1), atInf);
  return f(e.where(e.op("Equal", [u, e.c(1)]), x, atMinusOne));
}

/**
 * σ(x) = 1/(1 + e^−|x|) for x ≥ 0 and e^−|x|/(1 + e^−|x|) below: accurate to a few ulp in the far negative tail,
 * where ONNX Runtime's own Sigmoid flushes to 0 around x = −16 (so x·σ(x) would lose all its digits there).
 */
function sigmoid(e: Emitter, x: string): Value {
  const t = e.op("Exp", [e.op("Neg", [e.op("Abs", [x])])]);
  const s = e.op("Reciprocal", [e.op("Add", [t, e.c(1)])]);
  return f(e.where(e.op("GreaterOrEqual", [x, e.c(0)]), s, e.op("Mul", [t, s])));
}

/**
 * log1p(x) by the same trick: with u = 1 + x rounded, log(u)·(x / (u − 1)) is accurate near 0. u = 1 gives x;
 * u = +∞ (x = +∞) gives ∞; u = 0 gives −∞ and below −1 (−∞ too) log gives NaN, as log1p does.
 */
function log1p(e: Emitter, x: string): Value {
  const u = e.op("Add", [x, e.c(1)]);
  const kahan = e.op("Mul", [e.op("Log", [u]), e.op("Div", [x, e.op("Sub", [u, e.c(1)])])]);
  // only +∞: log1p(−∞) is NaN, which the Kahan form gives
  const atInf = e.where(e.op("IsInf", [u], { detect_negative: { int: 0 } }), u, kahan);
  return f(e.where(e.op("Equal", [u, e.c(1)]), x, atInf));
}

/**
 * hypot(a, b): √(a² + b²) directly where the squares can neither overflow nor underflow (as accurate as float32
 * allows), and m·√(1 + (n/m)²) with m = max(|a|, |b|), n = min beyond; NaN propagates, except hypot(±∞, NaN) = ∞.
 */
function hypot(e: Emitter, a: string, b2: string): Value {
  const aa = e.op("Abs", [a]);
  const bb = e.op("Abs", [b2]);
  const m = e.op("Max", [aa, bb]);
  const n = e.op("Min", [aa, bb]);
  const r = e.op("Div", [n, m]);
  const scaled = e.op("Mul", [m, e.op("Sqrt", [e.op("Add", [e.c(1), e.op("Mul", [r, r])])])]);
  const direct = e.op("Sqrt", [e.op("Add", [e.op("Mul", [aa, aa]), e.op("Mul", [bb, bb])])]);
  const safe = e.op("And", [e.op("Less", [m, e.c(1e18)]), e.op("Greater", [m, e.c(1e-18)])]);
  const value = e.where(safe, direct, e.where(e.op("Equal", [m, e.c(0)]), e.c(0), scaled));
  const withNaN = e.nanFrom(a, b2, value);
  const anyInf = e.op("Or", [e.op("IsInf", [a]), e.op("IsInf", [b2])]);
  return f(e.where(anyInf, e.c(Infinity), withNaN));
}

/** One lowering per unary primitive; the Record type makes a missing one a compile error, and a test checks it too. */
export const UNARY_LOWERING: Readonly<Record<UnaryOp, UnaryLowering>> = {
  neg: simple("Neg"),
  abs: simple("Abs"),
  // ONNX Sign gives 0 for NaN in some runtimes; Neurite's sign keeps NaN
  sign: (e, a) => f(e.where(e.isNaN(a), a, e.op("Sign", [a]))),
  exp: simple("Exp"),
  expm1,
  log: simple("Log"),
  log1p,
  sqrt: simple("Sqrt"),
  tanh: simple("Tanh"),
  sigmoid,
  erf: simple("Erf"),
  floor: simple("Floor"),
  isnan: (e, a) => b(e.isNaN(a)),
  sin: simple("Sin"),
  cos: simple("Cos"),
  tan: simple("Tan"),
  atan: simple("Atan"),
  sinh: simple("Sinh"),
  cosh: simple("Cosh"),
  asinh: simple("Asinh"),
  atanh: simple("Atanh"),
  reciprocal: simple("Reciprocal"),
  rsqrt: (e, a) => f(e.op("Reciprocal", [e.op("Sqrt", [a])])),
  exp2: (e, a) => f(e.op("Pow", [e.c(2), a])),
  // log2(x) = log(x)·(1/ln 2); ONNX has no Log2
  log2: (e, a) => f(e.op("Mul", [e.op("Log", [a]), e.c(Math.LOG2E)])),
  // ONNX Round rounds half to even, as Neurite's round
  round: simple("Round"),
  // toward 0: ceil below 0, floor above (ONNX has no Trunc)
  trunc: (e, a) => f(e.where(e.op("Less", [a, e.c(0)]), e.op("Ceil", [a]), e.op("Floor", [a]))),
};

export const BINARY_LOWERING: Readonly<Record<BinaryOp, BinaryLowering>> = {
  add: (e, a, b2) => f(e.op("Add", [a, b2])),
  sub: (e, a, b2) => f(e.op("Sub", [a, b2])),
  mul: (e, a, b2) => f(e.op("Mul", [a, b2])),
  div: (e, a, b2) => f(e.op("Div", [a, b2])),
  pow: (e, a, b2) => f(e.op("Pow", [a, b2])),
  min: (e, a, b2) => f(e.nanFrom(a, b2, e.op("Min", [a, b2]))),
  max: (e, a, b2) => f(e.nanFrom(a, b2, e.op("Max", [a, b2]))),
  lt: (e, a, b2) => b(e.op("Less", [a, b2])),
  le: (e, a, b2) => b(e.op("LessOrEqual", [a, b2])),
  gt: (e, a, b2) => b(e.op("Greater", [a, b2])),
  ge: (e, a, b2) => b(e.op("GreaterOrEqual", [a, b2])),
  eq: (e, a, b2) => b(e.op("Equal", [a, b2])),
  // true for NaN operands, as Neurite's ne (a !== b)
  ne: (e, a, b2) => b(e.op("Not", [e.op("Equal", [a, b2])])),
  hypot,
};

/** Where the leaves of an activation program come from: x and trainable parameters by input index, scalars by value. */
export interface Leaves {
  input(index: number): string;
  scalar(index: number): number;
}

/**
 * Emits an expression as ONNX nodes and returns the float32 output's name. Shared subexpressions are emitted once.
 * `what` names the activation for errors.
 */
export function lowerExpr(e: Emitter, expr: Expr, leaves: Leaves, what: string): string {
  const memo = new Map<string, Value>();
  const visit = (x: Expr): Value => {
    const known = memo.get(x.key);
    if (known) return known;
    const n = x.node;
    let v: Value;
    switch (n.kind) {
      case "input": v = f(leaves.input(n.index)); break;
      case "scalar": v = f(e.c(leaves.scalar(n.index))); break;
      case "const": v = f(e.c(n.value)); break;
      case "unary": v = UNARY_LOWERING[n.op](e, e.float(visit(n.a))); break;
      case "binary": v = BINARY_LOWERING[n.op](e, e.float(visit(n.a)), e.float(visit(n.b))); break;
      case "where": {
        const c = e.cond(visit(n.cond));
        v = f(e.where(c, e.float(visit(n.a)), e.float(visit(n.b))));
        break;
      }
      case "output":
      case "param":
        throw new OnnxError(`${what}: its formula holds an unbound ${n.kind} node, which has no ONNX form; formulas are written over x and the declared parameters`);
    }
    memo.set(x.key, v);
    return v;
  };
  return e.float(visit(expr));
}
