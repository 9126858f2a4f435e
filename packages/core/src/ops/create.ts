import { scalar } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { backends } from "../backend/instances.js";
import { Storage, checkBufferFits } from "../tensor/storage.js";
import { checkShape, sizeOf } from "../tensor/shape.js";
import { type NestedArray, Tensor } from "../tensor/tensor.js";
import { contiguousView, produce } from "./kernel.js";
import { Random } from "./random.js";

function inferShape(values: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = (v as readonly NestedArray[])[0] as NestedArray;
  }
  return shape;
}

function flatten(values: NestedArray, shape: readonly number[], out: Float32Array): void {
  let k = 0;
  const walk = (v: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v !== "number") throw new ArgumentError(`tensor: expected a number at depth ${dim}, got ${Array.isArray(v) ? "an array" : typeof v}`);
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(`tensor: ragged nested array: expected ${shape[dim]} entries at depth ${dim} (shape ${fmtShape(shape)}), got ${Array.isArray(v) ? v.length : typeof v}`);
    }
    for (const c of v as readonly NestedArray[]) walk(c, dim + 1);
  };
  walk(values, 0);
}

/** @internal uploads values to the active backend as a tensor. */
export function fromValues(values: Float32Array, shape: readonly number[]): Tensor {
  const backend = backends.active;
  return new Tensor(new Storage(backend, backend.upload(values), values.length), shape);
}

/**
 * Creates a float32 tensor from nested arrays, a flat array or a typed array (with `shape`), or a number.
 *
 * @example
 * tensor([[1, 2], [3, 4]]);          // shape [2, 2]
 * tensor(new Float32Array(6), [2, 3]);
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: readonly number[]): Tensor {
  if (shape) checkShape(shape);
  if (typeof values === "number") {
    if (shape && sizeOf(shape) !== 1) throw new ShapeError(`tensor: one number cannot fill shape ${fmtShape(shape)}; use fill(shape, value)`);
    return fromValues(Float32Array.of(values), shape ?? []);
  }
  if (ArrayBuffer.isView(values) || (shape && !Array.isArray((values as readonly NestedArray[])[0]))) {
    if (!ArrayBuffer.isView(values)) {
      const list = values as ArrayLike<unknown>;
      for (let i = 0; i < list.length; i++) {
        if (typeof list[i] !== "number") throw new ArgumentError(`tensor: value ${i} is ${JSON.stringify(list[i])}, not a number`);
      }
    }
    const flat = Float32Array.from(values as ArrayLike<number>);
    const s = shape ?? [flat.length];
    if (sizeOf(s) !== flat.length) throw new ShapeError(`tensor: ${flat.length} values cannot fill shape ${fmtShape(s)} (${sizeOf(s)} elements)`);
    return fromValues(flat, s);
  }
  const inferred = inferShape(values as NestedArray);
  // nested arrays can share rows: refuse what the backend cannot hold before filling a host copy of it
  checkBufferFits(backends.active, sizeOf(inferred), "tensor");
  const out = new Float32Array(sizeOf(inferred));
  flatten(values as NestedArray, inferred, out);
  if (shape && sizeOf(shape) !== out.length) throw new ShapeError(`tensor: ${out.length} values cannot fill shape ${fmtShape(shape)}`);
  return fromValues(out, shape ?? inferred);
}

/** A tensor of `shape` with every element `value`. */
export function fill(shape: readonly number[], value: number): Tensor {
  checkShape(shape);
  const backend = backends.active;
  return produce(shape, (id) => backend.elementwise({ program: scalar(0), inputs: [], scalars: [value], shape, out: contiguousView(id, shape) }), backend);
}

export const zeros = (shape: readonly number[]): Tensor => fill(shape, 0);
export const ones = (shape: readonly number[]): Tensor => fill(shape, 1);
export const zerosLike = (t: Tensor): Tensor => fill(t.shape, 0);
export const onesLike = (t: Tensor): Tensor => fill(t.shape, 1);

/** start, start + step, … up to (excluding) stop, like NumPy's arange. */
export function range(start: number, stop?: number, step = 1): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ArgumentError(`range: step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ArgumentError(`range: start and stop must be finite numbers, got start=${start}, stop=${stop}`);
  checkBufferFits(backends.active, sizeOf([n]), "range");
  return fromValues(Float32Array.from({ length: n }, (_, i) => start + i * step), [n]);
}

export interface UniformOptions {
  readonly min?: number;
  readonly max?: number;
  readonly seed?: number;
}

/** Uniform values in [min, max) (default [0, 1)); the same seed gives the same values everywhere. */
export function uniform(shape: readonly number[], options: UniformOptions = {}): Tensor {
  checkShape(shape);
  const { min = 0, max = 1, seed = Random.freshSeed() } = options;
  if (!(min <= max)) throw new ArgumentError(`uniform: min must be <= max, got min=${min}, max=${max}`);
  checkBufferFits(backends.active, sizeOf(shape), "uniform");
  return fromValues(new Random(seed).uniformArray(sizeOf(shape), min, max), shape);
}

export interface NormalOptions {
  readonly mean?: number;
  readonly std?: number;
  readonly seed?: number;
}

/** Normally distributed values (default mean 0, std 1); the same seed gives the same values everywhere. */
export function normal(shape: readonly number[], options: NormalOptions = {}): Tensor {
  checkShape(shape);
  const { mean = 0, std = 1, seed = Random.freshSeed() } = options;
  if (!(std >= 0)) throw new ArgumentError(`normal: std must be >= 0, got ${std}`);
  checkBufferFits(backends.active, sizeOf(shape), "normal");
  return fromValues(new Random(seed).normalArray(sizeOf(shape), mean, std), shape);
}
