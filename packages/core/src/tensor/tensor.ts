import { brandClass, brandInstance, sharedState } from "../process-state.js";
import type { Backend } from "../backend/contract.js";
import { NeuriteError, fmtShape } from "../errors.js";
import type { Disposable } from "../autograd/async-scope.js";
import { scopeState } from "../autograd/scope-state.js";
import { accounting } from "./accounting.js";
import { Storage } from "./storage.js";
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
        if (held.counted) accounting.liveTensors--;
        held.storage.release();
      })
    : undefined;

/** Tensor ids, process-wide so that tensors made by two copies of the core (ESM and CJS) never share one. */
const tensorIds = sharedState("tensor-ids", () => ({ next: 0 }));

/**
 * An immutable float32 tensor of any rank, row-major, whose values live in a backend's memory.
 *
 * Free it with `dispose()`, with `using t = …`, or by creating it inside `scope(() => …)`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the op methods are declared below and installed by ops/methods.ts
export class Tensor implements Disposable {
  readonly id = tensorIds.next++;
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
    brandInstance(this, new.target);
    accounting.liveTensors++;
    finalizer?.register(this, this.held, this);
    if (track) scopeState.track(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** @internal the backend that holds this tensor's values (an op moves them to the active backend when it reads them). */
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
    // through the storage: an op that moves this tensor to another backend meanwhile does not free the buffer being read
    return this.storage.read();
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
    accounting.liveTensors--;
    this.held.counted = false;
    scopeState.untrack(this);
    this.storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return this.isDisposed ? `Tensor(disposed)` : `Tensor${fmtShape(this.shape)} ${JSON.stringify(this.arraySync())}`;
  }
}

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Use aᵀ (the last two axes swapped) without materialising it. */
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
}

type Axes = number | readonly number[];

/**
 * The fluent op methods: each is the function of the same name in the ops. They are declared here and
 * installed on the prototype by `ops/methods.ts`, so the ops import the tensor and never the reverse.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see ops/methods.ts, which installs every method declared here
export interface Tensor {
  add(b: Tensor | number): Tensor;
  sub(b: Tensor | number): Tensor;
  mul(b: Tensor | number): Tensor;
  div(b: Tensor | number): Tensor;
  pow(b: Tensor | number): Tensor;
  maximum(b: Tensor | number): Tensor;
  minimum(b: Tensor | number): Tensor;
  neg(): Tensor;
  abs(): Tensor;
  exp(): Tensor;
  log(): Tensor;
  log1p(): Tensor;
  sqrt(): Tensor;
  square(): Tensor;
  tanh(): Tensor;
  sigmoid(): Tensor;
  less(b: Tensor | number): Tensor;
  greater(b: Tensor | number): Tensor;
  equal(b: Tensor | number): Tensor;
  clip(lo: number, hi: number): Tensor;
  sum(axes?: Axes, keepDims?: boolean): Tensor;
  mean(axes?: Axes, keepDims?: boolean): Tensor;
  max(axes?: Axes, keepDims?: boolean): Tensor;
  min(axes?: Axes, keepDims?: boolean): Tensor;
  argmax(axis?: number): Tensor;
  logSumExp(axes?: Axes, keepDims?: boolean): Tensor;
  matmul(b: Tensor, options?: MatmulOptions): Tensor;
  reshape(shape: readonly number[]): Tensor;
  transpose(perm?: readonly number[]): Tensor;
  slice(start: number, end?: number): Tensor;
  gather(indices: Tensor | readonly number[], axis?: number): Tensor;
  clone(): Tensor;
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

// `instanceof Tensor` holds for tensors made by another copy of the core in the same process
brandClass(Tensor, "Tensor");
