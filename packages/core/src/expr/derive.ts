import { ArgumentError } from "../errors.js";
import { type BinaryOp, type Expr, binary, constant, unary, where } from "./expr.js";

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
function select(c: Expr, a: Expr, b: Expr): Expr {
  if (a.key === b.key) return a;
  return where(c, a, b);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ZERO_DERIVATIVE: ReadonlySet<string> = new Set(["sign", "floor", "isnan", "lt", "le", "gt", "ge", "eq", "ne"]);

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
    case "select": return select(n.cond, d(n.a), d(n.b));
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
    case "pow":
      if (isConst(db, 0)) return mul(mul(b, binary("pow", a, sub(b, ONE))), da);
      return mul(e, add(mul(db, unary("log", a)), div(mul(b, da), a)));
    // ties split the gradient evenly, as torch.minimum/maximum do
    case "min": return select(binary("lt", a, b), da, select(binary("lt", b, a), db, mul(constant(0.5), add(da, db))));
    case "max": return select(binary("gt", a, b), da, select(binary("gt", b, a), db, mul(constant(0.5), add(da, db))));
    default: throw new ArgumentError(`no derivative rule for "${op}"`);
  }
}
