import type { StridedView } from "../backend/contract.js";
import { record } from "../autograd/tape.js";
import { type Expr, binary, input, mapExpr } from "../expr/expr.js";
import { derive } from "../expr/derive.js";
import { engine } from "../tensor/engine.js";
import { broadcastShapes, broadcastStrides, sizeOf, stridesOf } from "../tensor/shape.js";
import { Storage } from "../tensor/engine.js";
import { Tensor } from "../tensor/tensor.js";
import { sumTo } from "./reduce.js";

/**
 * Optional hand-given derivatives for {@link fused}: `derivatives[i]` is d(program)/d(input i) as an
 * expression over the same inputs and `output()` (y). Where absent the core derives it symbolically.
 */
export interface FusedOptions {
  readonly derivatives?: readonly (Expr | undefined)[];
}

/** @internal contiguous view of a tensor read as `outShape` with broadcasting. */
export function broadcastView(t: Tensor, outShape: readonly number[]): StridedView {
  return { id: t.storage.id, offset: 0, strides: broadcastStrides(t.shape, outShape) };
}

/** @internal contiguous output view. */
export function contiguousView(id: StridedView["id"], shape: readonly number[]): StridedView {
  return { id, offset: 0, strides: stridesOf(shape) };
}

/** Brings a tensor's data to the active backend (copying if it lives on another one); for plugins that call backend kernels. */
export function onActiveBackend(t: Tensor, op: string): Tensor {
  t.assertAlive(op);
  const b = engine.backend;
  if (t.backend === b) return t;
  const moved = new Tensor(new Storage(b, b.upload(t.dataSync()), t.size), t.shape);
  // the copy is differentiable: without this a gradient taken with respect to t silently came out zero
  return record(moved, "toBackend", [t], (g) => [g]);
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
  const backend = engine.backend;
  const ins = inputs.map((t) => onActiveBackend(t, op));
  const shape = broadcastShapes(op, ins.map((t) => t.shape));
  const out = backend.alloc(sizeOf(shape));
  backend.elementwise({
    program,
    inputs: ins.map((t) => broadcastView(t, shape)),
    scalars,
    shape,
    out: contiguousView(out, shape),
  });
  const y = new Tensor(new Storage(backend, out, sizeOf(shape)), shape);
  return record(y, op, ins, (g) =>
    ins.map((t, i) => {
      if (!t.requiresGrad) return undefined;
      const bp = backwardProgram(program, i, ins.length, options.derivatives?.[i]);
      // a kernel reads only the inputs its program uses, so passing y costs nothing when unused
      return sumTo(fused(`${op}'`, bp, [...ins, y, g], scalars), t.shape);
    }),
  );
}
