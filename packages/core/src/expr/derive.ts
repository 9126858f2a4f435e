import { ArgumentError } from "../errors.js";
import { type BinaryOp, type Expr, binary, constant, unary, where as whereExpr } from "./expr.js";

/**
 * Symbolic differentiation: the chain rule for every primitive as one table (tinygrad-style), so that an
 * activation declared from primitives needs no derivative code. Structural zeros are folded away, which
 * keeps derived kernels as small as hand-written ones (d/dx of a constant is exactly 0, even where the
 * constant's coefficient would be ±Infinity).
 */

const isConst = (e: Expr, v?: number): boolean => e.node.kind === "const" && (v === undefined || e.node.value === v);
const ZERO = constant(0);
const ONE = constant(1);

function add(a: Expr, b: Expr): Expr {
  if (isConst(a, 0)) return b;
  if (isConst(b, 0)) return a;
  return binary("add", a, b);
}
function sub(a: Expr, b: Expr): Expr {
  if (isConst(b, 0)) return a;
  if (isConst(a, 0)) return neg(b);
  return binary("sub", a, b);
}
function mul(a: Expr, b: Expr): Expr {
  if (isConst(a, 0) || isConst(b, 0)) return ZERO;
  if (isConst(a, 1)) return b;
  if (isConst(b, 1)) return a;
  if (a.node.kind === "const" && b.node.kind === "const") return constant(a.node.value * b.node.value);
  return binary("mul", a, b);
}
function div(a: Expr, b: Expr): Expr {
  if (isConst(a, 0)) return ZERO;
  if (isConst(b, 1)) return a;
  return binary("div", a, b);
}
function neg(a: Expr): Expr {
  if (a.node.kind === "const") return constant(-a.node.value);
  return unary("neg", a);
}
/** where(c, a, b), or `a` itself when both branches are the same expression. */
function where(c: Expr, a: Expr, b: Expr): Expr {
  if (a.key === b.key) return a;
  return whereExpr(c, a, b);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const LN2 = Math.LN2;
const ZERO_DERIVATIVE: ReadonlySet<string> = new Set(["sign", "floor", "round", "trunc", "isnan", "lt", "le", "gt", "ge", "eq", "ne"]);

/**
 * d(expr)/d(input `index`), as an expression over the same inputs. The kink convention comes from how a
 * formula is written: `where(x.gt(0), x, 0)` has derivative 0 at x = 0 because the else branch holds there.
 */
export function derive(expr: Expr, index: number): Expr {
  const memo = new Map<string, Expr>();
  const d = (e: Expr): Expr => {
    const hit = memo.get(e.key);
    if (hit) return hit;
    const r = rule(e, d, index);
    memo.set(e.key, r);
    return r;
  };
  return d(expr);
}

function rule(e: Expr, d: (e: Expr) => Expr, index: number): Expr {
  const n = e.node;
  switch (n.kind) {
    case "input": return n.index === index ? ONE : ZERO;
    case "const":
    case "scalar":
    case "param": return ZERO;
    case "output":
      throw new ArgumentError("cannot differentiate an expression that refers to the output y: give the derivative in terms of x instead");
    case "where": return where(n.cond, d(n.a), d(n.b));
    case "unary": {
      if (ZERO_DERIVATIVE.has(n.op)) return ZERO;
      const da = d(n.a);
      if (isConst(da, 0)) return ZERO;
      const a = n.a;
      switch (n.op) {
        case "neg": return neg(da);
        case "abs": return mul(unary("sign", a), da);
        case "exp": return mul(e, da);
        case "expm1": return mul(unary("exp", a), da);
        case "log": return div(da, a);
        case "log1p": return div(da, add(ONE, a));
        case "sqrt": return div(da, mul(constant(2), e));
        case "tanh": return mul(sub(ONE, mul(e, e)), da);
        case "sigmoid": return mul(mul(e, sub(ONE, e)), da);
        case "erf": return mul(mul(constant(TWO_OVER_SQRT_PI), unary("exp", neg(mul(a, a)))), da);
        case "sin": return mul(unary("cos", a), da);
        case "cos": return neg(mul(unary("sin", a), da));
        // 1 + tan² reuses the output; it overflows only where the true derivative exceeds float32
        case "tan": return mul(add(ONE, mul(e, e)), da);
        case "atan": return div(da, add(ONE, mul(a, a)));
        case "sinh": return mul(unary("cosh", a), da);
        case "cosh": return mul(unary("sinh", a), da);
        // √(x² + 1) as hypot(x, 1): x² overflows float32 from |x| ≈ 1.8e19, where the derivative is still 1/|x|
        case "asinh": return div(da, binary("hypot", a, ONE));
        // (1 − x)(1 + x), not 1 − x²: 1 − x is exact near ±1, where 1 − x² would cancel
        case "atanh": return div(da, mul(sub(ONE, a), add(ONE, a)));
        case "reciprocal": return neg(mul(mul(e, e), da));
        // d x^(−1/2) = −½·x^(−3/2) = −½·y³
        case "rsqrt": return mul(mul(constant(-0.5), mul(mul(e, e), e)), da);
        case "exp2": return mul(mul(e, constant(LN2)), da);
        case "log2": return div(da, mul(a, constant(LN2)));
        default: throw new ArgumentError(`no derivative rule for "${n.op}"`);
      }
    }
    case "binary": {
      if (ZERO_DERIVATIVE.has(n.op)) return ZERO;
      const { a, b } = n;
      const da = d(a);
      const db = d(b);
      return binaryRule(n.op, e, a, b, da, db);
    }
  }
}

function binaryRule(op: BinaryOp, e: Expr, a: Expr, b: Expr, da: Expr, db: Expr): Expr {
  switch (op) {
    case "add": return add(da, db);
    case "sub": return sub(da, db);
    case "mul": return add(mul(da, b), mul(a, db));
    case "div": return isConst(db, 0) ? div(da, b) : div(sub(da, mul(e, db)), b);
    case "pow": return add(powBase(a, b, da), powExponent(e, a, b, db));
    // PyTorch's convention (derivatives.yaml, maximum/minimum): ties split the gradient evenly; where an operand
    // is NaN no comparison holds and both operands receive the whole gradient
    case "min": return minMaxRule("lt", a, b, da, db);
    case "max": return minMaxRule("gt", a, b, da, db);
    case "hypot": {
      // (a, b)/hypot as (a, b)/M / hypot(1, m/M) with M = max(|a|, |b|), m = min(|a|, |b|): no step overflows, so
      // float32 gets (1, 1)/√2 at (3e38, 3e38), where hypot itself is ∞. hypot(0, 0) has no derivative: 0 there
      const big = binary("max", unary("abs", a), unary("abs", b));
      const norm = binary("hypot", ONE, div(binary("min", unary("abs", a), unary("abs", b)), big));
      const positive = binary("gt", big, ZERO);
      const part = (u: Expr, du: Expr): Expr => (isConst(du, 0) ? ZERO : mul(where(positive, div(div(u, big), norm), ZERO), du));
      return add(part(a, da), part(b, db));
    }
    default: throw new ArgumentError(`no derivative rule for "${op}"`);
  }
}

/** ∂(a^b)/∂a · da = b·a^(b−1)·da, and 0 where b = 0 (a⁰ = 1 for every a, 0⁰ included), as torch.pow's backward. */
function powBase(a: Expr, b: Expr, da: Expr): Expr {
  if (isConst(da, 0) || isConst(b, 0)) return ZERO;
  const term = mul(mul(b, binary("pow", a, sub(b, ONE))), da);
  // a constant non-zero exponent needs no guard: b·a^(b−1) is finite wherever the derivative exists
  return b.node.kind === "const" ? term : where(binary("eq", b, ZERO), ZERO, term);
}

/**
 * ∂(a^b)/∂b · db = a^b·log a·db, and 0 where a = 0 and b ≥ 0 (0^b is constant 0 or 1 there; log 0 = −∞ would
 * give 0·∞), as torch.pow's backward. A negative base gives NaN (log a), as PyTorch.
 */
function powExponent(e: Expr, a: Expr, b: Expr, db: Expr): Expr {
  if (isConst(db, 0)) return ZERO;
  const term = mul(mul(e, unary("log", a)), db);
  return where(binary("eq", a, ZERO), where(binary("ge", b, ZERO), ZERO, term), term);
}

/** d min(a, b) (`op` "lt") or d max(a, b) (`op` "gt"): the winner's derivative, half each at a tie, both with NaN. */
function minMaxRule(op: "lt" | "gt", a: Expr, b: Expr, da: Expr, db: Expr): Expr {
  const tie = where(binary("eq", a, b), mul(constant(0.5), add(da, db)), add(da, db));
  return where(binary(op, a, b), da, where(binary(op, b, a), db, tie));
}
