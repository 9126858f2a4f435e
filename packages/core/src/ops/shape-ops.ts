import type { StridedView } from "../backend/contract.js";
import { backends } from "../backend/instances.js";
import { noGrad, record, releaseTemporaries } from "../autograd/record.js";
import { scopeState } from "../autograd/scope-state.js";
import { binary, constant, input } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { Storage, checkBufferFits } from "../tensor/storage.js";
import { broadcastShapes, normalizeAxis, sameShape, sizeOf, stridesOf } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { fused } from "./fused.js";
import { broadcastView, contiguousView, copyView, onActiveBackend, produce, sumToUnrecorded } from "./kernel.js";

const IDENTITY = input(0);

/** A tensor of `shape` that is zero except where `src` is written through `outView`. */
function writeInto(src: Tensor, shape: readonly number[], outView: (id: StridedView["id"]) => StridedView): Tensor {
  const backend = backends.active;
  onActiveBackend(src, "gradient");
  return produce(shape, (id) => {
    backend.elementwise({ program: constant(0), inputs: [], scalars: [], shape, out: contiguousView(id, shape) });
    backend.elementwise({ program: IDENTITY, inputs: [contiguousView(src.storage.id, src.shape)], scalars: [], shape: src.shape, out: outView(id) });
  }, backend);
}

/** The same values with a new shape (one axis may be −1: inferred). Shares memory with x. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive("reshape");
  // validated before it is read: a non-array would otherwise fail inside filter() with a TypeError
  const given: unknown = shape;
  if (!Array.isArray(given) || shape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 0))) {
    throw new ArgumentError(`reshape: new shape must be an array of non-negative integers (one may be -1), got ${JSON.stringify(shape)}`);
  }
  const unknown = shape.filter((d) => d === -1).length;
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  // a −1 that does not resolve to a whole number is a size mismatch, reported as one
  if (unknown > 1 || resolved.some((d) => !Number.isInteger(d)) || sizeOf(resolved) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}; the sizes must match (at most one -1)`);
  }
  const y = new Tensor(x.storage.retain(), resolved);
  return record(y, "reshape", [x], (g) => [reshape(g, x.shape)]);
}

/** Permutes the axes (default: reverses them). `permute` is the same op. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const rank = x.rank;
  const p = perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ArgumentError(`transpose: perm must be a permutation of 0..${rank - 1} for shape ${fmtShape(x.shape)}, got ${JSON.stringify(perm)}`);
  }
  x = onActiveBackend(x, "transpose");
  const strides = stridesOf(x.shape);
  const shape = p.map((a) => x.shape[a]!);
  const y = copyView({ id: x.storage.id, offset: 0, strides: p.map((a) => strides[a]!) }, shape);
  const inverse = p.map((_, i) => p.indexOf(i));
  return record(y, "transpose", [x], (g) => [transpose(g, inverse)]);
}

/** Alias of {@link transpose} with a required permutation. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return transpose(x, perm);
}

/** Broadcasts x to `shape` (NumPy rules), copying. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes("broadcastTo", [x.shape, shape]);
  if (!sameShape(out, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (sameShape(x.shape, shape)) return fused("broadcastTo", IDENTITY, [x]);
  x = onActiveBackend(x, "broadcastTo");
  const y = copyView(broadcastView(x, shape), shape);
  return record(y, "broadcastTo", [x], (g) => [sumToUnrecorded(g, x.shape)]);
}

/** Inserts an axis of size 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, "expandDims");
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes axes of size 1 (all of them, or those listed). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const drop = axes ? axes.map((a) => normalizeAxis(a, x.rank, "squeeze")) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of drop) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => !drop.includes(i)));
}

/** `length` entries of `axis` starting at `start`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis(axis, x.rank, "narrow");
  const n = x.shape[a]!;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > n) {
    throw new ArgumentError(`narrow: start=${start}, length=${length} must be integers selecting inside axis ${a} of size ${n} (shape ${fmtShape(x.shape)})`);
  }
  x = onActiveBackend(x, "narrow");
  const strides = stridesOf(x.shape);
  const shape = x.shape.map((d, i) => (i === a ? length : d));
  const offset = start * strides[a]!;
  const y = copyView({ id: x.storage.id, offset, strides }, shape);
  return record(y, "narrow", [x], (g) => [writeInto(g, x.shape, (id) => ({ id, offset, strides }))]);
}

/**
 * Rows `start` (inclusive) to `end` (exclusive) of the first axis, as Python slices: negative values
 * count from the end, and `end` defaults to the end. The mini-batch op.
 */
export function slice(x: Tensor, start: number, end?: number): Tensor {
  if (x.rank === 0) throw new ShapeError("slice: cannot slice a scalar (shape [])");
  const n = x.shape[0]!;
  const clampIdx = (i: number): number => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clampIdx(start);
  const e = clampIdx(end ?? n);
  return narrow(x, 0, s, Math.max(0, e - s));
}

/** Joins tensors along `axis`; all other axes must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError("concat: needs at least one tensor, got an empty list");
  const first = tensors[0]!;
  const a = normalizeAxis(axis, first.rank, "concat");
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${tensors.map((t) => fmtShape(t.shape)).join(", ")} differ outside axis ${a}`);
    }
  }
  const ins = tensors.map((t) => onActiveBackend(t, "concat"));
  const shape = first.shape.map((d, i) => (i === a ? ins.reduce((s, t) => s + t.shape[a]!, 0) : d));
  const backend = backends.active;
  const strides = stridesOf(shape);
  const starts: number[] = [];
  let at = 0;
  for (const t of ins) {
    starts.push(at);
    at += t.shape[a]!;
  }
  const y = produce(shape, (id) =>
    ins.forEach((t, i) =>
      backend.elementwise({ program: IDENTITY, inputs: [contiguousView(t.storage.id, t.shape)], scalars: [], shape: t.shape, out: { id, offset: starts[i]! * strides[a]!, strides } })), backend);
  return record(y, "concat", ins, (g) => ins.map((t, i) => (t.requiresGrad ? narrow(g, a, starts[i]!, t.shape[a]!) : undefined)));
}

/** Stacks same-shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ArgumentError("stack: needs at least one tensor, got an empty list");
  const expanded = tensors.map((t) => expandDims(t, axis));
  return releaseTemporaries(concat(expanded, axis), ...expanded);
}

function indexTensor(indices: Tensor | readonly number[]): Tensor {
  if (indices instanceof Tensor) return indices;
  const backend = backends.active;
  return new Tensor(new Storage(backend, backend.upload(Float32Array.from(indices)), indices.length), [indices.length]);
}

/**
 * Takes slices of x along `axis` at `indices` (integers): out has shape
 * x.shape[:axis] + indices.shape + x.shape[axis+1:]. The gradient scatters back (adding repeats).
 */
export function gather(x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  const a = normalizeAxis(axis, x.rank, "gather");
  x = onActiveBackend(x, "gather");
  const idx = onActiveBackend(indexTensor(indices), "gather");
  const outer = sizeOf(x.shape.slice(0, a));
  const axisSize = x.shape[a]!;
  const inner = sizeOf(x.shape.slice(a + 1));
  const count = idx.size;
  const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  const backend = backends.active;
  const out = backend.alloc(sizeOf(shape));
  try {
    backend.gather({ x: x.storage.id, indices: idx.storage.id, outer, axisSize, inner, count, out });
  } catch (e) {
    // a bad index is reported by the backend; free what this call made so the error leaks nothing
    backend.free(out);
    if (idx !== indices) idx.dispose();
    throw e;
  }
  const y = new Tensor(new Storage(backend, out, sizeOf(shape)), shape);
  if (!x.requiresGrad || scopeState.noGradDepth > 0) {
    if (idx !== indices) idx.dispose();
    return y;
  }
  // idx stays alive for the backward pass (the gradient scope frees it)
  return record(y, "gather", [x], (g) => {
    // the backward runs on the backend active now (a switch may have come between): g and idx move there
    const b = backends.active;
    onActiveBackend(g, "gather gradient");
    onActiveBackend(idx, "gather gradient");
    return [produce(x.shape, (gid) => b.scatterAdd({ src: g.storage.id, indices: idx.storage.id, outer, axisSize, inner, count, out: gid }), b)];
  });
}

/** One-hot rows: out[..., k] = 1 where indices == k, for k < depth. */
export function oneHot(indices: Tensor | readonly number[], depth: number): Tensor {
  if (!Number.isInteger(depth) || depth <= 0) throw new ArgumentError(`oneHot: depth must be a positive integer, got ${depth}`);
  const idxShape = indices instanceof Tensor ? indices.shape : [indices.length];
  // refuse a result the backend cannot hold before building `depth` class numbers on the host
  checkBufferFits(backends.active, sizeOf([...idxShape, depth]), "oneHot");
  const idx = indexTensor(indices);
  const classes = indexTensor(Array.from({ length: depth }, (_, k) => k));
  const column = reshape(idx, [...idx.shape, 1]);
  const y = noGrad(() => fused("oneHot", binary("eq", input(0), input(1)), [column, classes]));
  column.dispose();
  classes.dispose();
  if (idx !== indices) idx.dispose();
  return y;
}
