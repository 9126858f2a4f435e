import { ArgumentError } from "../errors.js";
import { type BinaryOp, type Expr, type ExprNode, type UnaryOp, assertExpr, topoOrder } from "./expr.js";
import { erf, roundHalfEven, sigmoid, sign, tanh } from "./math.js";

/**
 * The meaning of every primitive as JavaScript source over float64 values: the single definition that the
 * float64 evaluator and generated JavaScript kernels share. `M` is {@link PRIMITIVE_HELPERS}.
 */
export const UNARY_JS: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `M.sign(${a})`,
  exp: (a) => `Math.exp(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  tanh: (a) => `M.tanh(${a})`,
  sigmoid: (a) => `M.sigmoid(${a})`,
  erf: (a) => `M.erf(${a})`,
  floor: (a) => `Math.floor(${a})`,
  isnan: (a) => `(${a} !== ${a} ? 1 : 0)`,
  // V8's Math.sin/cos/tan reduce with fdlibm's exact Payne–Hanek reduction: correct for every float64
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  atan: (a) => `Math.atan(${a})`,
  sinh: (a) => `Math.sinh(${a})`,
  cosh: (a) => `Math.cosh(${a})`,
  asinh: (a) => `Math.asinh(${a})`,
  atanh: (a) => `Math.atanh(${a})`,
  reciprocal: (a) => `(1 / ${a})`,
  rsqrt: (a) => `(1 / Math.sqrt(${a}))`,
  // pow(2, n) is exact for integer n (down to 2^−1074)
  exp2: (a) => `Math.pow(2, ${a})`,
  log2: (a) => `Math.log2(${a})`,
  round: (a) => `M.roundHalfEven(${a})`,
  trunc: (a) => `Math.trunc(${a})`,
};

export const BINARY_JS: Record<BinaryOp, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `Math.pow(${a}, ${b})`,
  // Math.min/max propagate NaN, like torch.minimum/maximum and WebAssembly's f32.min/max
  min: (a, b) => `Math.min(${a}, ${b})`,
  max: (a, b) => `Math.max(${a}, ${b})`,
  lt: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  le: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
  gt: (a, b) => `(${a} > ${b} ? 1 : 0)`,
  ge: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
  eq: (a, b) => `(${a} === ${b} ? 1 : 0)`,
  ne: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
  // Math.hypot scales internally: no overflow or underflow of the squares
  hypot: (a, b) => `Math.hypot(${a}, ${b})`,
};

/** Helpers the generated source refers to as `M`. */
export const PRIMITIVE_HELPERS = { erf, roundHalfEven, sigmoid, sign, tanh } as const;

/** How a generated function reads the leaves of an expression. */
export interface LeafSource {
  input(index: number): string;
  scalar(index: number): string;
  output(): string;
}

/**
 * Turns an expression into straight-line JavaScript: one `const` per distinct subexpression (common
 * subexpressions are computed once). Returns the statements and the name holding the result.
 */
export function exprToJs(expr: Expr, leaf: LeafSource, prefix = "t"): { statements: string; result: string } {
  // the source is built only from what this function formats itself: the node kinds and ops of the tables
  // above, numbers it prints, and the caller's leaf source; a look-alike object never gets this far
  assertExpr(expr, "exprToJs: the expression");
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(prefix)) throw new ArgumentError(`exprToJs: prefix must be an identifier, got ${JSON.stringify(prefix)}`);
  const names = new Map<string, string>();
  const lines: string[] = [];
  const ref = (e: Expr): string => names.get(e.key)!;
  for (const e of topoOrder(expr)) {
    const n: ExprNode = e.node;
    let src: string;
    switch (n.kind) {
      case "input": src = leaf.input(n.index); break;
      case "scalar": src = leaf.scalar(n.index); break;
      case "output": src = leaf.output(); break;
      case "const": src = numberSource(n.value); break;
      case "param": throw new ArgumentError(`expression still holds parameter "${n.name}": bind parameters before compiling`);
      case "unary": src = opSource(UNARY_JS, n.op)(ref(n.a)); break;
      case "binary": src = opSource(BINARY_JS, n.op)(ref(n.a), ref(n.b)); break;
      // NaN and 0 are both falsy in JavaScript: exactly the select semantics
      case "where": src = `(${ref(n.cond)} ? ${ref(n.a)} : ${ref(n.b)})`; break;
      default: throw new ArgumentError(`exprToJs: unknown expression kind ${JSON.stringify((n as { kind: unknown }).kind)}`);
    }
    const name = `${prefix}${names.size}`;
    names.set(e.key, name);
    lines.push(`const ${name} = ${src};`);
  }
  return { statements: lines.join("\n"), result: ref(expr) };
}

/** A number as a JavaScript literal, formatted here: NaN, ±Infinity and −0 as tokens, anything else refused. */
function numberSource(v: unknown): string {
  if (typeof v !== "number") throw new ArgumentError(`exprToJs: a constant must be a number, got ${typeof v}`);
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return Object.is(v, -0) ? "-0" : String(v);
}

/** The source builder of an op, looked up as an own entry of its table (never `constructor` and the like). */
function opSource<F>(table: Readonly<Record<string, F>>, op: string): F {
  if (!Object.hasOwn(table, op)) throw new ArgumentError(`exprToJs: no JavaScript for the primitive ${JSON.stringify(op)}`);
  return table[op]!;
}

/** A compiled float64 scalar function of an expression. */
export type ScalarFunction = (inputs: readonly number[], scalars?: readonly number[], output?: number) => number;

const scalarCache = new Map<string, ScalarFunction>();

/**
 * Compiles an expression (parameters already bound) into a float64 scalar function: the reference for
 * tests, plots and gradient checks.
 */
export function compileScalar(expr: Expr): ScalarFunction {
  assertExpr(expr, "compileScalar: the expression");
  const hit = scalarCache.get(expr.key);
  if (hit) return hit;
  const { statements, result } = exprToJs(expr, {
    input: (i) => `(X[${i}] ?? NaN)`,
    scalar: (i) => `(S[${i}] ?? NaN)`,
    output: () => "Y",
  });
  const body = `return function (X, S, Y) {\n${statements}\nreturn ${result};\n};`;
  // generated code is built only from the primitive table above, never from user strings
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = (new Function("M", body) as (m: typeof PRIMITIVE_HELPERS) => ScalarFunction)(PRIMITIVE_HELPERS);
  scalarCache.set(expr.key, fn);
  return fn;
}
