import { record } from "../autograd/record.js";
import { type Expr, binary, input, mapExpr } from "../expr/expr.js";
import { derive } from "../expr/derive.js";
import { backends } from "../backend/instances.js";
import { broadcastShapes } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { broadcastView, contiguousView, onActiveBackend, produce, sumToUnrecorded } from "./kernel.js";

/**
 * Optional hand-given derivatives for {@link fused}: `derivatives[i]` is d(program)/d(input i) as an
 * expression over the same inputs and `output()` (y). Where absent the core derives it symbolically.
 */
export interface FusedOptions {
  readonly derivatives?: readonly (Expr | undefined)[];
}

// derived backward programs, cached per forward program and input
const backwardCache = new Map<string, Expr>();

/**
 * The backward program for input i: g · ∂program/∂input_i, over inputs [...inputs, y, g]. Hand-given
 * derivatives may use y (`output()`), which becomes input n.
 */
function backwardProgram(program: Expr, i: number, n: number, given: Expr | undefined): Expr {
  const key = `${program.key}|${i}|${given?.key ?? ""}`;
  let p = backwardCache.get(key);
  if (!p) {
    const d = given ?? derive(program, i);
    const withY = mapExpr(d, (e) => (e.node.kind === "output" ? input(n) : undefined));
    p = binary("mul", input(n + 1), withY);
    backwardCache.set(key, p);
  }
  return p;
}

/**
 * Runs an elementwise expression over broadcast tensors as one kernel and records its gradient: the
 * single path every elementwise op and every elementwise activation takes.
 *
 * `program` reads `input(i)` = inputs[i] and `scalar(j)` = scalars[j].
 */
export function fused(op: string, program: Expr, inputs: readonly Tensor[], scalars: readonly number[] = [], options: FusedOptions = {}): Tensor {
  const backend = backends.active;
  const ins = inputs.map((t) => onActiveBackend(t, op));
  const shape = broadcastShapes(op, ins.map((t) => t.shape));
  const y = produce(shape, (out) =>
    backend.elementwise({
      program,
      label: op,
      inputs: ins.map((t) => broadcastView(t, shape)),
      scalars,
      shape,
      out: contiguousView(out, shape),
    }), backend);
  return record(y, op, ins, (g) =>
    ins.map((t, i) => {
      if (!t.requiresGrad) return undefined;
      const bp = backwardProgram(program, i, ins.length, options.derivatives?.[i]);
      // a kernel reads only the inputs its program uses, so passing y costs nothing when unused
      return sumToUnrecorded(fused(`${op}'`, bp, [...ins, y, g], scalars), t.shape);
    }),
  );
}
