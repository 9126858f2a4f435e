import type { Backend } from "../backend/contract.js";
import { NeuriteError, fmtShape } from "../errors.js";
import * as ops from "../ops/index.js";
import { type Disposable, Storage, engine } from "./engine.js";
import { sizeOf } from "./shape.js";

/** Nested arrays of numbers, as accepted by {@link tensor}. */
export type NestedArray = number | readonly NestedArray[];

/** @internal the autograd record of the op that produced a tensor. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** The gradient of each input given the gradient of the output (undefined: none flows). */
  backward(g: Tensor): readonly (Tensor | undefined)[];
}

/** Releases storage of tensors that were garbage-collected without dispose(): the safety net, not the plan. */
const finalizer =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<{ storage: Storage; counted: boolean }>((held) => {
        if (held.counted) engine.liveTensors--;
        held.storage.release();
      })
    : undefined;

let nextId = 0;

/**
 * An immutable float32 tensor of any rank, row-major, whose values live in a backend's memory.
 *
 * Free it with `dispose()`, with `using t = …`, or by creating it inside `scope(() => …)`.
 */
export class Tensor implements Disposable {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype = "float32" as const;
  /** @internal */
  storage: Storage;
  /** @internal */
  node: GradNode | undefined;
  /** @internal set while a gradient is being taken with respect to this tensor, or one it came from. */
  requiresGrad = false;
  private disposedFlag = false;
  private readonly held: { storage: Storage; counted: boolean };

  /** @internal use the creation functions ({@link tensor}, `zeros`, …) instead. */
  constructor(storage: Storage, shape: readonly number[], track = true) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.held = { storage, counted: true };
    engine.liveTensors++;
    finalizer?.register(this, this.held, this);
    if (track) engine.track(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** @internal the backend that holds this tensor's values. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** @internal throws if the tensor was disposed. */
  assertAlive(op: string): void {
    if (this.disposedFlag) {
      throw new NeuriteError(`${op}: tensor ${fmtShape(this.shape)} was already disposed; keep it (keep(t)) or create it outside the scope that freed it`);
    }
  }

  /** @internal points this tensor at new storage (variables' assign). */
  swapStorage(storage: Storage): void {
    this.storage.release();
    this.storage = storage;
    this.held.storage = storage;
  }

  /** A copy of the values, synchronously. */
  dataSync(): Float32Array {
    this.assertAlive("dataSync");
    return this.backend.read(this.storage.id);
  }

  /** A copy of the values. */
  async data(): Promise<Float32Array> {
    this.assertAlive("data");
    const b = this.backend;
    return b.readAsync ? b.readAsync(this.storage.id) : b.read(this.storage.id);
  }

  /** The values as nested arrays. */
  arraySync(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new NeuriteError(`item(): tensor has shape ${fmtShape(this.shape)}, expected exactly one element`);
    return this.dataSync()[0]!;
  }

  /** Frees the tensor's memory (once the last tensor sharing it is disposed). Safe to call twice. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    this.node = undefined;
    finalizer?.unregister(this);
    engine.liveTensors--;
    this.held.counted = false;
    engine.untrack(this);
    this.storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return this.isDisposed ? `Tensor(disposed)` : `Tensor${fmtShape(this.shape)} ${JSON.stringify(this.arraySync())}`;
  }

  // ---- fluent op methods (each is the function of the same name in ops) ----
  add(b: Tensor | number): Tensor { return ops.add(this, b); }
  sub(b: Tensor | number): Tensor { return ops.sub(this, b); }
  mul(b: Tensor | number): Tensor { return ops.mul(this, b); }
  div(b: Tensor | number): Tensor { return ops.div(this, b); }
  pow(b: Tensor | number): Tensor { return ops.pow(this, b); }
  maximum(b: Tensor | number): Tensor { return ops.maximum(this, b); }
  minimum(b: Tensor | number): Tensor { return ops.minimum(this, b); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  log1p(): Tensor { return ops.log1p(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  square(): Tensor { return ops.square(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  less(b: Tensor | number): Tensor { return ops.less(this, b); }
  greater(b: Tensor | number): Tensor { return ops.greater(this, b); }
  equal(b: Tensor | number): Tensor { return ops.equal(this, b); }
  clip(lo: number, hi: number): Tensor { return ops.clip(this, lo, hi); }
  sum(axes?: number | readonly number[], keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims = false): Tensor { return ops.max(this, axes, keepDims); }
  min(axes?: number | readonly number[], keepDims = false): Tensor { return ops.min(this, axes, keepDims); }
  argmax(axis = -1): Tensor { return ops.argmax(this, axis); }
  logSumExp(axes?: number | readonly number[], keepDims = false): Tensor { return ops.logSumExp(this, axes, keepDims); }
  matmul(b: Tensor, options?: ops.MatmulOptions): Tensor { return ops.matmul(this, b, options); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  transpose(perm?: readonly number[]): Tensor { return ops.transpose(this, perm); }
  slice(start: number, end?: number): Tensor { return ops.slice(this, start, end); }
  gather(indices: Tensor | readonly number[], axis = 0): Tensor { return ops.gather(this, indices, axis); }
  clone(): Tensor { return ops.clone(this); }
}

function nest(values: Float32Array, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0]!;
  const build = (offset: number, dim: number): NestedArray[] => {
    const n = shape[dim]!;
    if (dim === shape.length - 1) return Array.from(values.subarray(offset, offset + n));
    const step = sizeOf(shape.slice(dim + 1));
    return Array.from({ length: n }, (_, i) => build(offset + i * step, dim + 1) as NestedArray);
  };
  return build(0, 0);
}

/** Wraps a fresh backend buffer of `shape` in a tensor: for plugins that call a backend's optional kernels (softmax). */
export function makeTensor(backend: Backend, id: import("../backend/contract.js").DataId, shape: readonly number[]): Tensor {
  return new Tensor(new Storage(backend, id, sizeOf(shape)), shape);
}
