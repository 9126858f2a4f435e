/**
 * The elementwise expression language. Every backend implements these primitives once; activations and
 * elementwise ops are written as expressions over them, each backend fuses an expression into one kernel,
 * and the core derives derivatives symbolically ({@link derive}).
 */

/** Primitives of one operand. `sigmoid` is a primitive (not 1/(1+exp(-x))) so its derivative σ(1−σ) never overflows. */
export const UNARY_OPS = [
  "neg", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "tanh", "sigmoid", "erf", "floor", "isnan",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Primitives of two operands. `min`/`max` propagate NaN; comparisons give 1 or 0 and are false for NaN. */
export const BINARY_OPS = ["add", "sub", "mul", "div", "pow", "min", "max", "lt", "le", "gt", "ge", "eq", "ne"] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type ExprNode =
  /** Operand `index` of the kernel (x, a bias, a trainable parameter, the upstream gradient…). */
  | { readonly kind: "input"; readonly index: number }
  /** The forward output y, usable in hand-given derivatives such as σ' = y(1−y). */
  | { readonly kind: "output" }
  /** A literal constant of the formula. */
  | { readonly kind: "const"; readonly value: number }
  /** A run-time scalar, passed to the kernel beside its inputs so that one compiled kernel serves every value. */
  | { readonly kind: "scalar"; readonly index: number }
  /** A named activation parameter; bound to a scalar or an input before the expression reaches a backend. */
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly a: Expr }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  /** `cond ? a : b`; cond is true when it is neither 0 nor NaN. */
  | { readonly kind: "select"; readonly cond: Expr; readonly a: Expr; readonly b: Expr };

/** A number is accepted wherever an expression is, as a constant. */
export type ExprLike = Expr | number;

/**
 * An immutable expression node with a fluent builder API:
 * `x.gt(0).select(x, alpha.mul(x.expm1()))` or, equivalently, `where(x.gt(0), x, alpha.mul(expm1(x)))`.
 */
export class Expr {
  private keyCache: string | undefined;
  private constructor(readonly node: ExprNode) {}

  /** @internal */
  static of(node: ExprNode): Expr {
    return new Expr(node);
  }

  /** A canonical string for the whole tree: equal keys mean equal expressions (used to cache compiled kernels). */
  get key(): string {
    if (this.keyCache === undefined) this.keyCache = computeKey(this.node);
    return this.keyCache;
  }

  add(b: ExprLike): Expr { return binary("add", this, b); }
  sub(b: ExprLike): Expr { return binary("sub", this, b); }
  mul(b: ExprLike): Expr { return binary("mul", this, b); }
  div(b: ExprLike): Expr { return binary("div", this, b); }
  pow(b: ExprLike): Expr { return binary("pow", this, b); }
  min(b: ExprLike): Expr { return binary("min", this, b); }
  max(b: ExprLike): Expr { return binary("max", this, b); }
  lt(b: ExprLike): Expr { return binary("lt", this, b); }
  le(b: ExprLike): Expr { return binary("le", this, b); }
  gt(b: ExprLike): Expr { return binary("gt", this, b); }
  ge(b: ExprLike): Expr { return binary("ge", this, b); }
  eq(b: ExprLike): Expr { return binary("eq", this, b); }
  ne(b: ExprLike): Expr { return binary("ne", this, b); }
  neg(): Expr { return unary("neg", this); }
  abs(): Expr { return unary("abs", this); }
  sign(): Expr { return unary("sign", this); }
  exp(): Expr { return unary("exp", this); }
  expm1(): Expr { return unary("expm1", this); }
  log(): Expr { return unary("log", this); }
  log1p(): Expr { return unary("log1p", this); }
  sqrt(): Expr { return unary("sqrt", this); }
  square(): Expr { return binary("mul", this, this); }
  tanh(): Expr { return unary("tanh", this); }
  sigmoid(): Expr { return unary("sigmoid", this); }
  erf(): Expr { return unary("erf", this); }
  floor(): Expr { return unary("floor", this); }
  isNaN(): Expr { return unary("isnan", this); }
  /** `this ? a : b`, with this as the condition. */
  select(a: ExprLike, b: ExprLike): Expr { return where(this, a, b); }
  /** Clamps into [lo, hi]; NaN stays NaN; derivative 1 inside [lo, hi] and 0 outside (as the tensor clip). */
  clip(lo: ExprLike, hi: ExprLike): Expr { return where(this.lt(lo), lo, where(this.gt(hi), hi, this)); }
}

function computeKey(n: ExprNode): string {
  switch (n.kind) {
    case "input": return `i${n.index}`;
    case "output": return "y";
    case "const": return Object.is(n.value, -0) ? "c-0" : `c${n.value}`;
    case "scalar": return `s${n.index}`;
    case "param": return `p:${n.name}`;
    case "unary": return `${n.op}(${n.a.key})`;
    case "binary": return `${n.op}(${n.a.key},${n.b.key})`;
    case "select": return `sel(${n.cond.key},${n.a.key},${n.b.key})`;
  }
}

/** Converts a number to a constant expression. */
export function lift(v: ExprLike): Expr {
  return typeof v === "number" ? constant(v) : v;
}

export const constant = (value: number): Expr => Expr.of({ kind: "const", value });
export const input = (index: number): Expr => Expr.of({ kind: "input", index });
export const scalar = (index: number): Expr => Expr.of({ kind: "scalar", index });
export const param = (name: string): Expr => Expr.of({ kind: "param", name });
/** The forward output y, for derivatives given in terms of it. */
export const output = (): Expr => Expr.of({ kind: "output" });
export const unary = (op: UnaryOp, a: ExprLike): Expr => Expr.of({ kind: "unary", op, a: lift(a) });
export const binary = (op: BinaryOp, a: ExprLike, b: ExprLike): Expr => Expr.of({ kind: "binary", op, a: lift(a), b: lift(b) });
/** `cond ? a : b` elementwise; cond is true when it is neither 0 nor NaN (so NaN conditions take `b`). */
export const where = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr =>
  Expr.of({ kind: "select", cond: lift(cond), a: lift(a), b: lift(b) });

/** Visits every distinct node once, children before parents (the order a kernel computes them in). */
export function topoOrder(root: Expr): Expr[] {
  const seen = new Set<string>();
  const order: Expr[] = [];
  const visit = (e: Expr): void => {
    if (seen.has(e.key)) return;
    seen.add(e.key);
    for (const c of children(e)) visit(c);
    order.push(e);
  };
  visit(root);
  return order;
}

/** The operands of a node. */
export function children(e: Expr): Expr[] {
  const n = e.node;
  switch (n.kind) {
    case "unary": return [n.a];
    case "binary": return [n.a, n.b];
    case "select": return [n.cond, n.a, n.b];
    default: return [];
  }
}

/** Rebuilds an expression bottom-up, replacing leaves (or any node) where `fn` returns an expression. */
export function mapExpr(e: Expr, fn: (e: Expr) => Expr | undefined): Expr {
  const memo = new Map<string, Expr>();
  const go = (x: Expr): Expr => {
    const hit = memo.get(x.key);
    if (hit) return hit;
    let out = fn(x);
    if (!out) {
      const n = x.node;
      if (n.kind === "unary") out = unary(n.op, go(n.a));
      else if (n.kind === "binary") out = binary(n.op, go(n.a), go(n.b));
      else if (n.kind === "select") out = where(go(n.cond), go(n.a), go(n.b));
      else out = x;
    }
    memo.set(x.key, out);
    return out;
  };
  return go(e);
}

/** The largest input index used plus one, and whether the output y is used. */
export function exprArity(e: Expr): { inputs: number; scalars: number; usesOutput: boolean; params: string[] } {
  let inputs = 0;
  let scalars = 0;
  let usesOutput = false;
  const params = new Set<string>();
  for (const x of topoOrder(e)) {
    const n = x.node;
    if (n.kind === "input") inputs = Math.max(inputs, n.index + 1);
    else if (n.kind === "scalar") scalars = Math.max(scalars, n.index + 1);
    else if (n.kind === "output") usesOutput = true;
    else if (n.kind === "param") params.add(n.name);
  }
  return { inputs, scalars, usesOutput, params: [...params] };
}
