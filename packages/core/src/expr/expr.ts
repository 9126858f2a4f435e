/**
 * The elementwise expression language. Every backend implements these primitives once; activations and
 * elementwise ops are written as expressions over them, each backend fuses an expression into one kernel,
 * and the core derives derivatives symbolically ({@link derive}).
 */

import { ArgumentError } from "../errors.js";
import { sharedState } from "../process-state.js";

/**
 * Primitives of one operand. `sigmoid` is a primitive (not 1/(1+exp(-x))) so its derivative σ(1−σ) never overflows;
 * `asinh`, `atanh`, `sinh` and `cosh` are primitives so that no user formula has to avoid their textbook forms'
 * overflow (x² of 3e38) and cancellation (log(1 + tiny)). `round` rounds half to even, as torch.round.
 */
export const UNARY_OPS = [
  "neg", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "tanh", "sigmoid", "erf", "floor", "isnan",
  "sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "atanh", "reciprocal", "rsqrt", "exp2", "log2", "round", "trunc",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/**
 * Primitives of two operands. `min`/`max` propagate NaN; comparisons give 1 or 0 and are false for NaN; `hypot` is
 * √(a² + b²) without overflow or underflow of the squares (hypot(3e38, 1e38) ≈ 3.16e38 is finite; ∞ only
 * where the true value exceeds the float32 range; hypot(1e-30, 1e-30) ≈ 1.41e-30, not 0).
 */
export const BINARY_OPS = ["add", "sub", "mul", "div", "pow", "min", "max", "lt", "le", "gt", "ge", "eq", "ne", "hypot"] as const;
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
  | { readonly kind: "where"; readonly cond: Expr; readonly a: Expr; readonly b: Expr };

/** A number is accepted wherever an expression is, as a constant. */
export type ExprLike = Expr | number;

/**
 * The expressions built by the core, with what each knows of its tree: the brand that data cannot forge, and
 * (beside the frozen node) a cache for the key. Process-wide, so that an expression built by one copy of the
 * core (the CJS build a dependency requires) is accepted by another (the ESM build the app imports).
 */
const builtExprs = sharedState("expressions", () => new WeakMap<object, { readonly depth: number; readonly size: number; key: string | undefined }>());

/**
 * An immutable expression node with a fluent builder API:
 * `x.gt(0).where(x, alpha.mul(x.expm1()))` or, equivalently, `where(x.gt(0), x, alpha.mul(expm1(x)))`.
 */
export class Expr {
  // nominal for TypeScript (no run-time field: the brand is membership of builtExprs)
  declare private readonly exprBrand: never;
  /** The node: checked and frozen when built; its operands are expressions built by the core as well. */
  readonly node: ExprNode;

  private constructor(node: ExprNode) {
    // a subclass could override `key` and make two expressions share a compiled kernel
    if (new.target !== Expr) throw new ArgumentError("Expr cannot be subclassed: build expressions with the core's builders (input, constant, x.add(…))");
    const checked = checkedNode(node);
    let depth = 0;
    let size = 1;
    for (const c of operandsOf(checked)) {
      const m = builtExprs.get(c)!;
      depth = Math.max(depth, m.depth);
      size += m.size;
    }
    if (depth + 1 > MAX_EXPR_DEPTH) {
      throw new ArgumentError(`expression nests deeper than ${MAX_EXPR_DEPTH} levels: build it from fewer, reused subexpressions (an activation needs a few dozen levels at most)`);
    }
    if (size > MAX_EXPR_NODES) {
      throw new ArgumentError(`expression has more than ${MAX_EXPR_NODES} nodes, counting a shared subexpression at each use (x.add(x) repeated doubles it): simplify the formula`);
    }
    this.node = checked;
    builtExprs.set(this, { depth: depth + 1, size, key: undefined });
    Object.freeze(this);
  }

  /** @internal builds an expression from a node, which is checked: kind, op, numbers and operands. */
  static of(node: ExprNode): Expr {
    return new Expr(node);
  }

  /** `value instanceof Expr` is the brand check, so it holds for expressions built by another copy of the core too. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return Expr.isExpr(value);
  }

  /** Whether `value` is an expression built by the core: a brand check, so an object of the same shape is not one. */
  static isExpr(value: unknown): value is Expr {
    return typeof value === "object" && value !== null && builtExprs.has(value);
  }

  /** A canonical string for the whole tree: equal keys mean equal expressions (used to cache compiled kernels). */
  get key(): string {
    const meta = builtExprs.get(this)!;
    meta.key ??= computeKey(this.node);
    return meta.key;
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
  sin(): Expr { return unary("sin", this); }
  cos(): Expr { return unary("cos", this); }
  /** tan x; poles only at the exact multiples of π/2, which no float32 is. */
  tan(): Expr { return unary("tan", this); }
  /** Arctangent, in (−π/2, π/2); atan(±∞) = ±π/2. */
  atan(): Expr { return unary("atan", this); }
  /** sinh x; ±∞ only where the true value exceeds the float32 range. */
  sinh(): Expr { return unary("sinh", this); }
  /** cosh x; ∞ only where the true value exceeds the float32 range. */
  cosh(): Expr { return unary("cosh", this); }
  /** asinh x = log(x + √(x² + 1)), finite for every finite x and accurate near 0. */
  asinh(): Expr { return unary("asinh", this); }
  /** atanh x = ½ log((1 + x)/(1 − x)); ±∞ at ±1, NaN beyond. */
  atanh(): Expr { return unary("atanh", this); }
  /** 1/x (reciprocal(±0) = ±∞). */
  reciprocal(): Expr { return unary("reciprocal", this); }
  /** 1/√x (rsqrt(0) = ∞, NaN below 0). */
  rsqrt(): Expr { return unary("rsqrt", this); }
  /** 2ˣ, exact at integers (exp2(−149) is the smallest float32 subnormal, exp2(128) = ∞). */
  exp2(): Expr { return unary("exp2", this); }
  /** log₂ x, exact at powers of two; log2(0) = −∞. */
  log2(): Expr { return unary("log2", this); }
  /** Rounds to the nearest integer, ties to even (round(0.5) = 0, round(2.5) = 2), as torch.round; no gradient. */
  round(): Expr { return unary("round", this); }
  /** Rounds toward 0; no gradient. */
  trunc(): Expr { return unary("trunc", this); }
  /**
   * √(this² + b²) without intermediate overflow or underflow. Its gradient is (a, b)/hypot, and 0 at (0, 0) by
   * convention (the function has no derivative there; 0 is the minimum's subgradient).
   */
  hypot(b: ExprLike): Expr { return binary("hypot", this, b); }
  /** `this ? a : b`, with this as the condition (the method form of `where(this, a, b)`). */
  where(a: ExprLike, b: ExprLike): Expr { return where(this, a, b); }
  /** @deprecated the same as {@link Expr.where}, its old name (one word for one thing: `where`). */
  select(a: ExprLike, b: ExprLike): Expr { return where(this, a, b); }
  /** Clamps into [lo, hi]; NaN stays NaN; derivative 1 inside [lo, hi] and 0 outside (as the tensor clip). */
  clip(lo: ExprLike, hi: ExprLike): Expr { return where(this.lt(lo), lo, where(this.gt(hi), hi, this)); }
  /** min(max(this, lo), hi): see {@link clamp}. */
  clamp(lo: ExprLike, hi: ExprLike): Expr { return clamp(this, lo, hi); }
}

/** The deepest expression accepted: every pass over an expression may recurse once per level. */
export const MAX_EXPR_DEPTH = 1000;
/**
 * The largest expression accepted, counting a shared subexpression at each use: that is what its key (and so
 * the kernel caches) costs. The fourth derivative of mish has about 1,250.
 */
export const MAX_EXPR_NODES = 1 << 18;
/** Input and scalar indexes are below this: a kernel takes a few operands, and an index is spliced into source. */
export const MAX_EXPR_OPERANDS = 1024;

/** The kinds of node, the allow-list every code generator relies on. */
export const EXPR_KINDS = ["input", "output", "const", "scalar", "param", "unary", "binary", "where"] as const satisfies readonly ExprNode["kind"][];

// derived from the op tables, so a new primitive is accepted as soon as it is listed there
const UNARY_OP_SET: ReadonlySet<string> = new Set<string>(UNARY_OPS);
const BINARY_OP_SET: ReadonlySet<string> = new Set<string>(BINARY_OPS);

/** Whether `value` is an expression built by the core (not merely shaped like one). */
export function isExpr(value: unknown): value is Expr {
  return Expr.isExpr(value);
}

/** Throws an {@link ArgumentError} unless `value` is an expression built by the core; `what` names it in the message. */
export function assertExpr(value: unknown, what: string): asserts value is Expr {
  if (!Expr.isExpr(value)) {
    throw new ArgumentError(`${what} is ${describeValue(value)}, not an expression built by @neurite/core: build it with the core's builders (input, constant, x.add(…), where(…))`);
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "function") return "a function";
  return typeof value === "object" ? "an object" : typeof value;
}

/** Reads a node's fields once each (getters cannot change them afterwards) into a fresh frozen node. */
function checkedNode(node: unknown): ExprNode {
  if (typeof node !== "object" || node === null) throw new ArgumentError(`expression node must be an object, got ${describeValue(node)}`);
  const n = node as Record<string, unknown>;
  const kind = n.kind;
  const operand = (name: string): Expr => {
    const v = n[name];
    assertExpr(v, `expression operand ${name} of a ${String(kind)} node`);
    return v;
  };
  switch (kind) {
    case "input":
    case "scalar": {
      const index = n.index;
      if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0 || index >= MAX_EXPR_OPERANDS) {
        throw new ArgumentError(`expression ${kind} index must be an integer in [0, ${MAX_EXPR_OPERANDS}), got ${describeValue(index)}`);
      }
      return Object.freeze({ kind, index });
    }
    case "output": return Object.freeze({ kind });
    case "const": {
      const value = n.value;
      if (typeof value !== "number") throw new ArgumentError(`expression constant must be a number, got ${describeValue(value)}`);
      return Object.freeze({ kind, value });
    }
    case "param": {
      const name = n.name;
      if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new ArgumentError(`expression parameter name must be an identifier, got ${describeValue(name)}`);
      }
      return Object.freeze({ kind, name });
    }
    case "unary": {
      const op = n.op;
      if (typeof op !== "string" || !UNARY_OP_SET.has(op)) throw new ArgumentError(`unknown unary op ${describeValue(op)}; the unary primitives: ${UNARY_OPS.join(", ")}`);
      return Object.freeze({ kind, op: op as UnaryOp, a: operand("a") });
    }
    case "binary": {
      const op = n.op;
      if (typeof op !== "string" || !BINARY_OP_SET.has(op)) throw new ArgumentError(`unknown binary op ${describeValue(op)}; the binary primitives: ${BINARY_OPS.join(", ")}`);
      return Object.freeze({ kind, op: op as BinaryOp, a: operand("a"), b: operand("b") });
    }
    case "where": return Object.freeze({ kind, cond: operand("cond"), a: operand("a"), b: operand("b") });
    default: throw new ArgumentError(`unknown expression kind ${describeValue(kind)}; the kinds: ${EXPR_KINDS.join(", ")}`);
  }
}

function operandsOf(n: ExprNode): Expr[] {
  switch (n.kind) {
    case "unary": return [n.a];
    case "binary": return [n.a, n.b];
    case "where": return [n.cond, n.a, n.b];
    default: return [];
  }
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
    case "where": return `where(${n.cond.key},${n.a.key},${n.b.key})`;
  }
}

/** Converts a number to a constant expression. */
export function lift(v: ExprLike): Expr {
  return typeof v === "number" ? constant(v) : v;
}

export const constant = (value: number): Expr => Expr.of({ kind: "const", value });
// expressions are immutable, so the leaves every op builds are shared rather than rebuilt (and re-checked) per call
const inputLeaves: Expr[] = [];
const scalarLeaves: Expr[] = [];
const SHARED_LEAVES = 16;
export const input = (index: number): Expr =>
  Number.isInteger(index) && index >= 0 && index < SHARED_LEAVES ? (inputLeaves[index] ??= Expr.of({ kind: "input", index })) : Expr.of({ kind: "input", index });
export const scalar = (index: number): Expr =>
  Number.isInteger(index) && index >= 0 && index < SHARED_LEAVES ? (scalarLeaves[index] ??= Expr.of({ kind: "scalar", index })) : Expr.of({ kind: "scalar", index });
export const param = (name: string): Expr => Expr.of({ kind: "param", name });
/** The forward output y, for derivatives given in terms of it. */
export const output = (): Expr => Expr.of({ kind: "output" });
export const unary = (op: UnaryOp, a: ExprLike): Expr => Expr.of({ kind: "unary", op, a: lift(a) });
export const binary = (op: BinaryOp, a: ExprLike, b: ExprLike): Expr => Expr.of({ kind: "binary", op, a: lift(a), b: lift(b) });
/** `cond ? a : b` elementwise; cond is true when it is neither 0 nor NaN (so NaN conditions take `b`). */
export const where = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr =>
  Expr.of({ kind: "where", cond: lift(cond), a: lift(a), b: lift(b) });

/**
 * min(max(x, lo), hi), built from the `max` and `min` primitives so that lo and hi may be expressions (trainable
 * bounds get gradients). NaN in x or a bound propagates; with lo > hi the result is hi (as torch.clamp).
 *
 * Derivative at the bounds: the tie convention of `max`/`min` (torch.maximum/minimum), so where x equals a bound
 * exactly, x and that bound each receive half the gradient; strictly inside x gets 1, outside the bound gets 1.
 * torch.clamp instead gives x the whole gradient at the bounds: use {@link Expr.clip} for that convention.
 */
export function clamp(x: ExprLike, lo: ExprLike, hi: ExprLike): Expr {
  return binary("min", binary("max", x, lo), hi);
}

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
    case "where": return [n.cond, n.a, n.b];
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
      else if (n.kind === "where") out = where(go(n.cond), go(n.a), go(n.b));
      else out = x;
    }
    memo.set(x.key, out);
    return out;
  };
  return go(e);
}

/** The indices of the inputs `e` reads, ascending (a kernel can skip laying out the others). */
export function inputsRead(e: Expr): number[] {
  const read = new Set<number>();
  for (const x of topoOrder(e)) if (x.node.kind === "input") read.add(x.node.index);
  return [...read].sort((p, q) => p - q);
}

/**
 * `e` over only the inputs it reads: `read` lists their old indices in ascending order, and input(read[i])
 * becomes input(i). A kernel then gets (and lays out) only the operands that matter.
 */
export function compactInputs(e: Expr): { program: Expr; read: number[] } {
  const read = inputsRead(e);
  const position = new Map(read.map((old, i) => [old, i]));
  const program = mapExpr(e, (x) => (x.node.kind === "input" ? input(position.get(x.node.index)!) : undefined));
  return { program, read };
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
