import { noGrad, record } from "../autograd/tape.js";
import { type Expr, input, mapExpr, output, scalar } from "../expr/expr.js";
import { type ScalarFunction, compileScalar } from "../expr/evaluate.js";
import { derive } from "../expr/derive.js";
import { ArgumentError } from "../errors.js";
import { fused, onActiveBackend } from "../ops/fused.js";
import { Storage, engine } from "../tensor/engine.js";
import { Tensor } from "../tensor/tensor.js";
import type { ActivationParams, BoundActivation, ElementwiseActivation, ParamExprs, ParamSpec } from "./contract.js";
import { resolveActivation } from "./registry.js";

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
  return { program: plugin.formula(x, p), dx: plugin.derivative?.(x, output(), p), scalars, trainable };
}

/**
 * y = f(x) for a bound activation, with its gradient recorded: elementwise activations run as one fused
 * kernel (or the plugin's hand-written kernel for this backend), axis activations through their forward
 * and backward. `weights` holds the values of trainable parameters (PReLU's slope), by name.
 */
export function applyActivation(x: Tensor, spec: BoundActivation, weights: Readonly<Record<string, Tensor>> = {}): Tensor {
  const plugin = spec.plugin;
  if (plugin.type === "axis") {
    const y = noGrad(() => plugin.forward(x, spec.params));
    return record(y, plugin.name, [x], (g) => [plugin.backward(g, y, x, spec.params)]);
  }
  const prog = activationProgram(spec);
  if (prog.trainable.length === 0) {
    const kernel = plugin.kernels?.[engine.backend.name];
    if (kernel) return applyHandKernel(x, spec, prog);
  }
  const ws = prog.trainable.map((k) => {
    const w = weights[k];
    if (!w) throw new ArgumentError(`activation "${plugin.name}": trainable parameter ${k} needs a weight tensor (use it inside a layer, which creates one)`);
    return w;
  });
  return fused(plugin.name, prog.program, [x, ...ws], prog.scalars, { derivatives: [prog.dx] });
}

function applyHandKernel(x: Tensor, spec: BoundActivation, prog: ActivationProgram): Tensor {
  const plugin = spec.plugin as ElementwiseActivation;
  const backend = engine.backend;
  const kernel = plugin.kernels![backend.name]!;
  x = onActiveBackend(x, plugin.name);
  const out = backend.alloc(x.size);
  kernel.forward(backend, { x: x.storage.id, out, size: x.size, params: spec.params });
  const y = new Tensor(new Storage(backend, out, x.size), x.shape);
  return record(y, plugin.name, [x], (g) => {
    if (!kernel.backward) return [backwardByFormula(x, y, g, prog)];
    const gid = backend.alloc(x.size);
    kernel.backward(backend, { x: x.storage.id, y: y.storage.id, g: g.storage.id, out: gid, size: x.size, params: spec.params });
    return [new Tensor(new Storage(backend, gid, x.size), x.shape)];
  });
}

/** g · f'(x) from the declaration, as one fused kernel over (x, y, g). */
function backwardByFormula(x: Tensor, y: Tensor, g: Tensor, prog: ActivationProgram): Tensor {
  // output() reads input(1), the saved forward output
  const d = mapExpr(prog.dx ?? derive(prog.program, 0), (n) => (n.node.kind === "output" ? input(1) : undefined));
  return fused("activation'", input(2).mul(d), [x, y, g], prog.scalars);
}

/** float64 scalar functions of a bound elementwise activation: f(x) and f'(x), for tests and plots. */
export interface ScalarActivation {
  f(x: number): number;
  df(x: number): number;
}

/**
 * The float64 evaluation of an elementwise activation (trainable parameters at their bound values): the
 * reference that kernels are checked against, and what plots draw.
 */
export function scalarActivation(spec: Parameters<typeof resolveActivation>[0]): ScalarActivation {
  const act = resolveActivation(spec);
  if (act.plugin.type !== "elementwise") throw new ArgumentError(`scalarActivation: "${act.plugin.name}" is not elementwise; use its reference(slice, params)`);
  const prog = activationProgram(act);
  const ins = prog.trainable.map((k) => act.params[k] as number);
  const f: ScalarFunction = compileScalar(prog.program);
  const dfn: ScalarFunction = compileScalar(prog.dx ?? derive(prog.program, 0));
  return {
    f: (x) => f([x, ...ins], prog.scalars),
    df: (x) => dfn([x, ...ins], prog.scalars, f([x, ...ins], prog.scalars)),
  };
}
