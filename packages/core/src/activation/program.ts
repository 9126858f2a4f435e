/**
 * An elementwise activation's formula bound to its parameter values: the program the kernels run. Kept apart
 * from ./apply.ts (which resolves names through the registry) so the declaration checker can use it without
 * an import cycle.
 */
import { type Expr, input, isExpr, output, scalar } from "../expr/expr.js";
import { ArgumentError, fmtValue } from "../errors.js";
import type { ActivationParams, BoundActivation, ElementwiseActivation, ParamExprs, ParamSpec } from "./contract.js";

/** An elementwise activation compiled for the core: its program, scalar values and derivative. */
export interface ActivationProgram {
  /** f over input(0) = x, input(1 + k) = k-th trainable parameter, scalar(j) = numeric parameters. */
  readonly program: Expr;
  /** Hand-given df/dx over the same leaves and output(), or undefined (derived). */
  readonly dx: Expr | undefined;
  readonly scalars: readonly number[];
  /** Names of the trainable parameters, in input order. */
  readonly trainable: readonly string[];
}

/** Names of the parameters that are weights rather than constants. */
export function trainableParams(plugin: { params: Record<string, ParamSpec> }): string[] {
  return Object.entries(plugin.params).filter(([, s]) => s.trainable).map(([k]) => k);
}

/**
 * Binds an elementwise activation's formula: numeric parameters become run-time scalars (so one compiled
 * kernel serves every value) and trainable ones become inputs.
 */
export function activationProgram(act: BoundActivation): ActivationProgram {
  // only a frozen binding (bindActivation's) can be cached: another object could change under the cache
  if (!Object.isFrozen(act) || !Object.isFrozen(act.params)) return bindProgram(act);
  let prog = programs.get(act);
  if (!prog) {
    prog = bindProgram(act);
    programs.set(act, prog);
  }
  return prog;
}

// a bound activation is immutable (plugin and params fixed): its program is built once, not on every forward pass
const programs = new WeakMap<BoundActivation, ActivationProgram>();

function bindProgram(act: BoundActivation): ActivationProgram {
  const plugin = act.plugin as ElementwiseActivation;
  const trainable = trainableParams(plugin);
  const scalars: number[] = [];
  const exprs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(act.params)) {
    if (trainable.includes(k)) exprs[k] = input(1 + trainable.indexOf(k));
    else if (typeof v === "number") exprs[k] = scalar(scalars.push(v) - 1);
    else exprs[k] = v;
  }
  const p = exprs as ParamExprs<ActivationParams>;
  const x = input(0);
  const program = declaredExpr(plugin.name, "formula(x, params)", () => plugin.formula(x, p));
  const dx = plugin.derivative === undefined ? undefined : declaredExpr(plugin.name, "derivative(x, y, params)", () => plugin.derivative!(x, output(), p));
  return { program, dx, scalars, trainable };
}

/**
 * Runs a plugin's formula or derivative: it must return an expression built by the core (checked by brand,
 * not shape), so that a null never becomes the identity and a look-alike object never reaches a kernel.
 */
function declaredExpr(name: string, what: string, run: () => unknown): Expr {
  let e: unknown;
  try {
    e = run();
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : fmtValue(error);
    throw new ArgumentError(`activation "${name}": ${what} threw ${detail}`, { cause: error });
  }
  if (!isExpr(e)) {
    const got = e === null || e === undefined || typeof e === "number" || typeof e === "boolean" ? String(e) : typeof e === "function" ? "a function" : typeof e === "string" ? "a string" : "an object";
    throw new ArgumentError(`activation "${name}": ${what} returned ${got}, not an expression built by @neurite/core: build it from x and params with the expression builders (x.mul(params.alpha), where(x.gt(0), x, 0), …)`);
  }
  return e;
}
