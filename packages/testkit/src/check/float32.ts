/**
 * The float32 contract of elementwise activations, and its reference evaluator.
 *
 * A backend computes a formula in float32. What it must return, for every input x:
 *
 *   |a − exact| ≤ |step32 − exact| + max(rtol·|exact|, atol)
 *
 * where `exact` is the formula evaluated in float64 (rounded once), and `step32` is the formula evaluated step
 * by step in float32 with correctly rounded primitives: every constant, parameter and input rounded to float32,
 * every primitive computed in float64 from float32 operands and rounded to float32 (`Math.fround`) at every
 * node. So a backend may round after each step (as a float32 kernel does) or keep more precision (as a
 * float64-then-round kernel does): it must be no farther from the exact value than correct float32 rounding
 * at every step, plus the tolerance (default rtol 1e-6 ≈ 8 float32 ulp, atol 1e-7). Where step32 is NaN or
 * ±Infinity but the exact value is finite (an intermediate overflows float32, e.g. x² at 3.4e38), the
 * backend may return step32's NaN / ±Infinity, as PyTorch's float32 does, or the exact value.
 *
 * Where step32 itself is far from the exact value, the formula is ill-conditioned in float32 (cancellation,
 * intermediate overflow): that is the formula's pitfall, not a backend bug, and is reported as advice.
 */
import { type Expr, type ExprNode, BINARY_JS, PRIMITIVE_HELPERS, UNARY_JS, topoOrder } from "@neurite/core";
import type { Tolerance } from "../reference/numbers.js";

type Primitive1 = (a: number) => number;
type Primitive2 = (a: number, b: number) => number;

const unaryCache = new Map<string, Primitive1>();
const binaryCache = new Map<string, Primitive2>();

/**
 * Each primitive as a float64 function, built from core's own primitive tables (UNARY_JS, BINARY_JS): one
 * definition of every primitive, so a primitive added to the core is covered here without a change.
 */
function primitive<F>(cache: Map<string, F>, table: Readonly<Record<string, (...args: string[]) => string>>, op: string, params: string[]): F {
  const hit = cache.get(op);
  if (hit) return hit;
  if (!Object.hasOwn(table, op)) throw new Error(`float32 reference: no float64 definition of the primitive "${op}" in the core's tables`);
  const source = table[op]!(...params);
  // the source is the core's primitive table applied to parameter names: no user text reaches it
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = (new Function("M", `return (${params.join(", ")}) => ${source};`) as (m: typeof PRIMITIVE_HELPERS) => F)(PRIMITIVE_HELPERS);
  cache.set(op, fn);
  return fn;
}

const f32 = Math.fround;

/** A compiled float32 step-by-step evaluator of an expression: inputs, scalars and the forward output as leaves. */
export type StepFunction = (inputs: readonly number[], scalars: readonly number[], output?: number) => number;

/**
 * Compiles `expr` (parameters bound to inputs and scalars, as `activationProgram` gives them) into its float32
 * step-by-step reference: each leaf rounded to float32, each primitive evaluated in float64 on float32 operands
 * and rounded to float32.
 */
export function float32Steps(expr: Expr): StepFunction {
  const order = topoOrder(expr);
  const ops = order.map((e) => {
    const n: ExprNode = e.node;
    if (n.kind === "unary") return primitive<Primitive1>(unaryCache, UNARY_JS, n.op, ["a"]);
    if (n.kind === "binary") return primitive<Primitive2>(binaryCache, BINARY_JS, n.op, ["a", "b"]);
    return undefined;
  });
  const index = new Map(order.map((e, i) => [e.key, i]));
  return (inputs, scalars, output = NaN) => {
    const v = new Array<number>(order.length);
    const at = (e: Expr): number => v[index.get(e.key)!]!;
    order.forEach((e, i) => {
      const n = e.node;
      switch (n.kind) {
        case "input": v[i] = f32(inputs[n.index] ?? NaN); break;
        case "scalar": v[i] = f32(scalars[n.index] ?? NaN); break;
        case "output": v[i] = f32(output); break;
        case "const": v[i] = f32(n.value); break;
        case "param": throw new Error(`float32 reference: parameter "${n.name}" is not bound`);
        case "unary": v[i] = f32((ops[i] as Primitive1)(at(n.a))); break;
        case "binary": v[i] = f32((ops[i] as Primitive2)(at(n.a), at(n.b))); break;
        // NaN and 0 are both false: the select semantics of every backend
        case "where": v[i] = at(n.cond) ? at(n.a) : at(n.b); break;
      }
    });
    return v[order.length - 1]!;
  };
}

/** Whether `a` is within max(rtol·|e|, atol) of `e` (both finite), or the same NaN / infinity. */
export function close(e: number, a: number, tol: Tolerance): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  return Number.isFinite(a) && Math.abs(a - e) <= Math.max(tol.rtol * Math.abs(e), tol.atol);
}

/**
 * The contract for one value: `actual` (a backend's float32 result) against `exact` (float64 formula) and
 * `step32` (float32 step by step). True when the backend is no farther from exact than step32, plus tolerance;
 * or, where float32 overflows (step32 or fround(exact) not finite), when it gives step32's or exact's value.
 */
export function withinContract(exact: number, step32: number, actual: number, tol: Tolerance): boolean {
  if (Number.isNaN(exact)) return Number.isNaN(actual);
  if (!Number.isFinite(step32) || !Number.isFinite(f32(exact))) {
    return Object.is(actual, step32) || (Number.isNaN(actual) && Number.isNaN(step32)) || actual === f32(exact) || close(exact, actual, tol);
  }
  if (!Number.isFinite(exact)) return actual === exact;
  if (!Number.isFinite(actual)) return false;
  return Math.abs(actual - exact) <= Math.abs(step32 - exact) + Math.max(tol.rtol * Math.abs(exact), tol.atol);
}

/** The kinds of float32 pitfall in a formula, with the rewrites that usually help. */
export const PITFALL_REWRITES = {
  overflow: "an intermediate overflows float32 (x² or exp(x) beyond 3.4e38): use the hypot form (hypot(x, c) for sqrt(x² + c²)), factor out the large term, or split branches (where(abs(x) > T, asymptote, formula))",
  cancellation: "nearly equal terms cancel: use log1p(u) for log(1 + u), expm1(u) for exp(u) − 1, the conjugate form (b / (sqrt(x² + b) − x) for x + sqrt(x² + b) at negative x), the hypot form, or split branches on the sign of x",
} as const;

/** Why float32 step by step loses accuracy at one input: an intermediate overflow, or cancellation. */
export function pitfallKind(exact: number, step32: number): keyof typeof PITFALL_REWRITES {
  return !Number.isFinite(step32) && Number.isFinite(exact) ? "overflow" : "cancellation";
}
