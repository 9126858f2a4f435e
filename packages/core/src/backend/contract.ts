import type { Expr } from "../expr/expr.js";

/**
 * The Backend plugin contract: a small set of kernels over float32 buffers that the backend owns.
 *
 * Everything else (every op, activation, layer, loss and optimizer) is composed by the core from these
 * kernels, so a new backend is usable as soon as it implements them. Optional kernels in
 * {@link OptionalKernels} are fast paths; the core falls back to composed kernels where one is missing.
 *
 * All sizes and strides are in elements. Kernels never allocate their outputs: the core allocates with
 * {@link Backend.alloc} and passes the handle.
 */
export interface Backend {
  /** Short name used by `setBackend` ("cpu", "wasm"). */
  readonly name: string;
  /** npm package that provides the backend, for messages. */
  readonly package: string;

  // ---- memory ----
  /** A new buffer of `size` float32 values (contents unspecified). */
  alloc(size: number): DataId;
  /** A new buffer holding a copy of `values`. */
  upload(values: Float32Array): DataId;
  /** A copy of the buffer's values. */
  read(id: DataId): Float32Array;
  /** A copy of the buffer's values, for backends whose memory is not readable synchronously. */
  readAsync?(id: DataId): Promise<Float32Array>;
  /** Releases the buffer; the id is not used again. */
  free(id: DataId): void;
  /** Bytes and buffers the backend holds now. */
  memory(): BackendMemory;
  /**
   * The most bytes one buffer can ever have on this backend (a static bound; a smaller request can still
   * fail when memory is in use). Where given, the core refuses larger tensors with an `OutOfMemoryError`
   * before it computes their values on the host (random initialisers, `range`, `oneHot`). Either way,
   * {@link Backend.alloc} and {@link Backend.upload} must throw an `OutOfMemoryError` (from `@neurite/core`)
   * for a request they cannot satisfy, and leave every other buffer and their memory counters unchanged.
   */
  readonly maxBufferBytes?: number;

  // ---- required kernels ----
  /** Evaluates an elementwise expression over strided (possibly broadcast) inputs: one fused pass. */
  elementwise(args: ElementwiseArgs): void;
  /** Reduces the middle axis of x viewed as [outer, size, inner] into out [outer, inner]. */
  reduce(args: ReduceArgs): void;
  /** Batched matrix product with optional transposes, out = op(a) · op(b). */
  matmul(args: MatmulArgs): void;
  /** Gathers slices along an axis: x [outer, axisSize, inner], indices [count] → out [outer, count, inner]. */
  gather(args: GatherArgs): void;
  /** The adjoint of gather: out [outer, axisSize, inner] = 0, then out[o, idx[c], i] += src[o, c, i]. */
  scatterAdd(args: ScatterAddArgs): void;

  /** Optional fast paths; see {@link OptionalKernels}. */
  readonly kernels?: Partial<OptionalKernels>;
  /** What the backend can do here (SIMD, threads, …), for diagnostics. */
  capabilities?(): Record<string, string | number | boolean>;
  /** Releases everything the backend holds (workers, memory). */
  dispose?(): void;
}

/** A backend's buffer handle. Opaque to the core. */
export type DataId = object;

export interface BackendMemory {
  bytes: number;
  buffers: number;
}

/** A view of a buffer: element (offset + Σ index[d]·strides[d]) for each index of the kernel's shape. */
export interface StridedView {
  readonly id: DataId;
  readonly offset: number;
  /** One stride per axis of the kernel's shape; 0 on broadcast axes. */
  readonly strides: readonly number[];
}

export interface ElementwiseArgs {
  /**
   * The expression: `input(i)` reads inputs[i], `scalar(j)` reads scalars[j]. It holds no `param` or
   * `output` nodes. `program.key` identifies it, for caching compiled kernels.
   */
  readonly program: Expr;
  readonly inputs: readonly StridedView[];
  readonly scalars: readonly number[];
  /** The shape iterated over (the output's shape). */
  readonly shape: readonly number[];
  /** Where results go; usually contiguous (strides of a row-major `shape`, offset 0). */
  readonly out: StridedView;
}

export type ReduceOp = "sum" | "max" | "min" | "argmax" | "argmin";

export interface ReduceArgs {
  readonly op: ReduceOp;
  readonly x: DataId;
  readonly outer: number;
  readonly size: number;
  readonly inner: number;
  readonly out: DataId;
}

export interface MatmulArgs {
  /** a holds `batch` (or 1, when aBatchStride is 0) matrices of [m, k], or [k, m] when transposeA. */
  readonly a: DataId;
  /** b holds matrices of [k, n], or [n, k] when transposeB. */
  readonly b: DataId;
  /** [batch, m, n], contiguous. */
  readonly out: DataId;
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** Elements between consecutive matrices of a (0 broadcasts one matrix over the batch). */
  readonly aBatchStride: number;
  readonly bBatchStride: number;
}

export interface GatherArgs {
  readonly x: DataId;
  /** Float32 values holding integer indices in [0, axisSize). */
  readonly indices: DataId;
  readonly outer: number;
  readonly axisSize: number;
  readonly inner: number;
  readonly count: number;
  readonly out: DataId;
}

export interface ScatterAddArgs {
  readonly src: DataId;
  readonly indices: DataId;
  readonly outer: number;
  readonly axisSize: number;
  readonly inner: number;
  readonly count: number;
  readonly out: DataId;
}

/** Row-wise kernel over x viewed as [rows, cols] (the last axis). */
export interface RowsArgs {
  readonly x: DataId;
  readonly out: DataId;
  readonly rows: number;
  readonly cols: number;
}

/** Backward of a row-wise kernel: out = VJP of the op at y (its forward output) with upstream g. */
export interface RowsBackwardArgs {
  readonly y: DataId;
  readonly g: DataId;
  readonly out: DataId;
  readonly rows: number;
  readonly cols: number;
}

/** Dense layer forward in one kernel: out = f(op(a) · op(b) + bias), f an elementwise expression of input(0). */
export interface MatmulEpilogueArgs extends MatmulArgs {
  /** [n] or absent. */
  readonly bias?: DataId;
  /** f as an expression over input(0) = the biased product and the kernel's scalars; absent for identity. */
  readonly activation?: Expr;
  readonly scalars: readonly number[];
  /** When given, z (the biased product before the activation) is written here too, for the backward pass. */
  readonly preActivation?: DataId;
}

/** One Adam / AdamW step over a parameter, its gradient and both moment buffers, all updated in place. */
export interface AdamArgs {
  readonly param: DataId;
  readonly grad: DataId;
  readonly m: DataId;
  readonly v: DataId;
  readonly size: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ for this step. */
  readonly biasCorrection1: number;
  readonly biasCorrection2: number;
  /** L2 penalty added to the gradient (Adam) … */
  readonly weightDecay: number;
  /** … or decoupled decay of the parameter (AdamW). */
  readonly decoupledWeightDecay: number;
}

/**
 * Fast paths a backend may provide. Each has a composed fallback in the core with the same results
 * within float32 rounding, so providing one never changes what a model computes.
 */
export interface OptionalKernels {
  /** Stable softmax over the last axis. */
  softmax(args: RowsArgs): void;
  /** Stable log-softmax over the last axis. */
  logSoftmax(args: RowsArgs): void;
  /** out = y ⊙ (g − Σ g⊙y) per row. */
  softmaxBackward(args: RowsBackwardArgs): void;
  /** out = g − exp(y) Σ g per row. */
  logSoftmaxBackward(args: RowsBackwardArgs): void;
  matmulEpilogue(args: MatmulEpilogueArgs): void;
  adam(args: AdamArgs): void;
}

/** The kernel names every backend must provide. */
export const REQUIRED_KERNELS = ["elementwise", "reduce", "matmul", "gather", "scatterAdd"] as const;

/** Every kernel name a backend may provide beyond the required ones. */
export const OPTIONAL_KERNELS = ["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward", "matmulEpilogue", "adam"] as const satisfies readonly (keyof OptionalKernels)[];

/**
 * A backend as a plugin: registered with `use(plugin)` (or `registerBackend`), created on `setBackend(name)`.
 * `create` may be async (WebAssembly compiles asynchronously in browsers).
 */
export interface BackendPlugin<Options = unknown> {
  readonly kind: "backend";
  readonly name: string;
  readonly package: string;
  readonly version: string;
  create(options?: Options): Backend | Promise<Backend>;
}
