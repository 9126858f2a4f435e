/**
 * The kernel layer under every op: buffers, strided views, moving operands to the active backend, and the
 * two kernel calls that the gradient plumbing needs (a strided copy and a reduction). Nothing here records
 * a gradient, and nothing here imports another op, so every op module can build on it.
 */
import type { Backend, DataId, ReduceOp, StridedView } from "../backend/contract.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { backends } from "../backend/instances.js";
import { Storage } from "../tensor/storage.js";
import { broadcastStrides, sameShape, sizeOf, stridesOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { input } from "../expr/expr.js";

const IDENTITY = input(0);

/** @internal contiguous view of a tensor read as `outShape` with broadcasting. */
export function broadcastView(t: Tensor, outShape: readonly number[]): StridedView {
  return { id: t.storage.id, offset: 0, strides: broadcastStrides(t.shape, outShape) };
}

/** @internal contiguous output view. */
export function contiguousView(id: StridedView["id"], shape: readonly number[]): StridedView {
  return { id, offset: 0, strides: stridesOf(shape) };
}

/**
 * Brings a tensor's data to the active backend and returns the same tensor: data on another backend is
 * *moved* in place (copied to the active backend, the old buffer freed), so the tensor, and every tensor
 * sharing its buffer, stays valid and nothing extra is left to dispose. Every op calls this on each operand
 * before it passes buffer ids to a kernel; plugins that call backend kernels themselves must do the same.
 */
export function onActiveBackend(t: Tensor, op: string): Tensor {
  t.assertAlive(op);
  const b = backends.active;
  if (t.storage.backend !== b) t.storage.moveTo(b);
  return t;
}

/**
 * Allocates a tensor of `shape` on `backend` (default: the active one) and runs `kernel` to fill it. A kernel
 * that throws frees the buffer before the error propagates, so a failed op leaks nothing; an allocation the
 * backend cannot satisfy throws its `OutOfMemoryError` before the kernel runs. For plugin packages that call a
 * backend kernel themselves: bring every operand over first with {@link onActiveBackend}, and record a
 * gradient with `customVjp` (the result records none).
 *
 * @example
 * const y = produce([rows, cols], (out) => backend.kernels!.im2col!({ ...geometry, x: x.storage.id, out }));
 */
export function produce(shape: readonly number[], kernel: (out: DataId) => void, backend: Backend = backends.active): Tensor {
  const size = sizeOf(shape);
  const out = backend.alloc(size);
  try {
    kernel(out);
  } catch (e) {
    backend.free(out);
    throw e;
  }
  return new Tensor(new Storage(backend, out, size), shape);
}

/** @internal copies `x` read through `view` into a new contiguous tensor of `shape` (transposes, slices, broadcasts). */
export function copyView(view: StridedView, shape: readonly number[]): Tensor {
  const backend = backends.active;
  return produce(shape, (out) => backend.elementwise({ program: IDENTITY, inputs: [view], scalars: [], shape, out: contiguousView(out, shape) }), backend);
}

/** @internal `shape` with the reduced `axes` kept as size 1. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** @internal runs the backend's reduce over `axes` (moving them last first when they are not adjacent); records nothing. */
export function reduceKernel(op: ReduceOp, x: Tensor, axes: readonly number[], name: string, keepDims = false): Tensor {
  const backend = backends.active;
  x = onActiveBackend(x, name);
  const outShape = keepDims ? keptShape(x.shape, axes) : x.shape.filter((_, i) => !axes.includes(i));
  const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  let src = x;
  let outer: number, size: number, inner: number;
  if (axes.length === 0) {
    outer = x.size; size = 1; inner = 1;
  } else if (adjacent) {
    outer = sizeOf(x.shape.slice(0, axes[0]));
    size = sizeOf(axes.map((a) => x.shape[a]!));
    inner = sizeOf(x.shape.slice(axes[axes.length - 1]! + 1));
  } else {
    const rest = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...rest, ...axes];
    const strides = stridesOf(x.shape);
    src = copyView({ id: x.storage.id, offset: 0, strides: perm.map((a) => strides[a]!) }, perm.map((a) => x.shape[a]!));
    outer = sizeOf(rest.map((i) => x.shape[i]!)); size = sizeOf(axes.map((a) => x.shape[a]!)); inner = 1;
  }
  try {
    if ((op === "argmax" || op === "argmin") && size === 0) {
      throw new ArgumentError(`${name}: cannot take ${op} over an empty axis of a tensor of shape ${fmtShape(x.shape)}`);
    }
    return produce(outShape, (out) => backend.reduce({ op, x: src.storage.id, outer, size, inner, out }), backend);
  } finally {
    if (src !== x) src.dispose();
  }
}

/**
 * @internal sums a broadcast gradient back to `shape` (the adjoint of broadcasting) without recording:
 * what the backward passes of the broadcasting ops need (they run with recording off). The public,
 * differentiable form is `sumTo` in ./reduce.ts.
 */
export function sumToUnrecorded(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const axes = sumToAxes(t.shape, shape);
  const summed = reduceKernel("sum", t, axes, "sumTo");
  if (summed.size !== sizeOf(shape)) {
    summed.dispose();
    throw new ShapeError(`sumTo: cannot reduce ${fmtShape(t.shape)} to ${fmtShape(shape)}`);
  }
  // the reshape shares the buffer, as reshape() does
  const out = new Tensor(summed.storage.retain(), shape);
  summed.dispose();
  return out;
}

/** @internal the axes of `from` that summing to `to` reduces (leading axes, and broadcast ones of size 1 in `to`). */
export function sumToAxes(from: readonly number[], to: readonly number[]): number[] {
  const lead = from.length - to.length;
  if (lead < 0) throw new ShapeError(`sumTo: cannot reduce ${fmtShape(from)} to the larger rank of ${fmtShape(to)}`);
  const axes: number[] = [];
  from.forEach((d, i) => {
    if (i < lead || (to[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return axes;
}
