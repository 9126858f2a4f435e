import { ArgumentError } from "../errors.js";
import { type BinaryOp, type Expr, type ExprNode, type UnaryOp, topoOrder } from "./expr.js";
import { erf, sigmoid, sign } from "./math.js";

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
  tanh: (a) => `Math.tanh(${a})`,
  sigmoid: (a) => `M.sigmoid(${a})`,
  erf: (a) => `M.erf(${a})`,
  floor: (a) => `Math.floor(${a})`,
  isnan: (a) => `(${a} !== ${a} ? 1 : 0)`,
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
};

/** Helpers the generated source refers to as `M`. */
export const PRIMITIVE_HELPERS = { erf, sigmoid, sign } as const;

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
      case "const": src = Number.isNaN(n.value) ? "NaN" : Object.is(n.value, -0) ? "-0" : n.value === Infinity ? "Infinity" : n.value === -Infinity ? "-Infinity" : String(n.value); break;
      case "param": throw new ArgumentError(`expression still holds parameter "${n.name}": bind parameters before compiling`);
      case "unary": src = UNARY_JS[n.op](ref(n.a)); break;
      case "binary": src = BINARY_JS[n.op](ref(n.a), ref(n.b)); break;
      // NaN and 0 are both falsy in JavaScript: exactly the select semantics
      case "select": src = `(${ref(n.cond)} ? ${ref(n.a)} : ${ref(n.b)})`; break;
    }
    const name = `${prefix}${names.size}`;
    names.set(e.key, name);
    lines.push(`const ${name} = ${src};`);
  }
  return { statements: lines.join("\n"), result: ref(expr) };
}

/** A compiled float64 scalar function of an expression. */
export type ScalarFunction = (inputs: readonly number[], scalars?: readonly number[], output?: number) => number;

const scalarCache = new Map<string, ScalarFunction>();

/**
 * Compiles an expression (parameters already bound) into a float64 scalar function: the reference for
 * tests, plots and gradient checks.
 */
export function compileScalar(expr: Expr): ScalarFunction {
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
