import { noGrad, record } from "../autograd/record.js";
import { backends } from "../backend/instances.js";
import { input, mapExpr } from "../expr/expr.js";
import { type ScalarFunction, compileScalar } from "../expr/evaluate.js";
import { derive } from "../expr/derive.js";
import { ArgumentError } from "../errors.js";
import { describeValue } from "../validation/options.js";
import { fused } from "../ops/fused.js";
import { onActiveBackend, produce } from "../ops/kernel.js";
import { Tensor } from "../tensor/tensor.js";
import type { BoundActivation, ElementwiseActivation } from "./contract.js";
import { type ActivationProgram, activationProgram } from "./program.js";
import { resolveActivation } from "./registry.js";

export { type ActivationProgram, activationProgram, trainableParams } from "./program.js";

/**
 * y = f(x) for a bound activation, with its gradient recorded: elementwise activations run as one fused
 * kernel (or the plugin's hand-written kernel for this backend), axis activations through their forward
 * and backward. `weights` holds the values of trainable parameters (PReLU's slope), by name.
 */
export function applyActivation(x: Tensor, spec: BoundActivation, weights: Readonly<Record<string, Tensor>> = {}): Tensor {
  // a JavaScript caller may swap the arguments or pass a name: say so, not "cannot read properties of undefined"
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(`applyActivation(x, spec): x must be a tensor, got ${describeValue(x)}; for example applyActivation(x, resolveActivation("relu"))`);
  }
  if (spec === null || typeof spec !== "object" || typeof (spec as Partial<BoundActivation>).plugin !== "object" || (spec as Partial<BoundActivation>).plugin === null) {
    throw new ArgumentError(`applyActivation(x, spec): spec must be a bound activation from resolveActivation(...), got ${describeValue(spec)}`);
  }
  const plugin = spec.plugin;
  if (plugin.type === "axis") {
    const y = noGrad(() => plugin.forward(x, spec.params));
    return record(y, plugin.name, [x], (g) => [plugin.backward(g, y, x, spec.params)]);
  }
  const prog = activationProgram(spec);
  if (prog.trainable.length === 0) {
    const kernel = plugin.kernels?.[backends.active.name];
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
  const backend = backends.active;
  const kernel = plugin.kernels![backend.name]!;
  x = onActiveBackend(x, plugin.name);
  const y = produce(x.shape, (out) => kernel.forward(backend, { x: x.storage.id, out, size: x.size, params: spec.params }), backend);
  return record(y, plugin.name, [x], (g) => {
    // the backward runs on the backend active now (a switch may have come between): its own kernel, or the formula
    const b = backends.active;
    const k = plugin.kernels?.[b.name];
    if (!k?.backward) return [backwardByFormula(x, y, g, prog)];
    for (const t of [x, y, g]) onActiveBackend(t, `${plugin.name} gradient`);
    return [produce(x.shape, (gid) => k.backward!(b, { x: x.storage.id, y: y.storage.id, g: g.storage.id, out: gid, size: x.size, params: spec.params }), b)];
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
