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
  /**
   * Optional: prepares one kernel call to be run many times with the same arguments (what a compiled
   * training step replays), doing its checks and lookups once. Returns a function that does what
   * `backend.<kernel>(args)` (or `backend.kernels.<kernel>(args)` when `optional`) does, or undefined
   * where the backend has nothing to save. The caller keeps every buffer the arguments name allocated, and
   * their contents' layout unchanged, for as long as it uses the function. An elementwise call's `scalars`
   * array is read again at each run, so the caller may change its values in place between runs (an
   * optimizer's learning rate); every other argument is fixed when the call is prepared.
   */
  prepare?(kernel: string, optional: boolean, args: unknown): (() => void) | undefined;
  /** What the backend can do here (SIMD, threads, …), for diagnostics. */
  capabilities?(): Record<string, string | number | boolean>;
  /**
   * Optional, for profiles: how many threads the most recent kernel call (required or optional) ran on, 1 when
   * it stayed on the calling thread. A backend with worker threads that keeps small work on one thread says so
   * here; `profile()` from `@neurite/core` reads it right after each call to tell threaded from single-threaded
   * work. Backends without threads need not implement it (profiles then count every call as one thread).
   */
  lastKernelThreads?(): number;
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
  /**
   * Optional: what the program computes, in words, for profiles and diagnostics: the op or activation it comes
   * from (`"add"`, `"relu"`, and `"relu'"` for its gradient). Backends may ignore it; it never changes a result.
   */
  readonly label?: string;
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

/** A plain copy between two buffers: out[i] = x[xOffset + i] for i in [0, size). */
export interface CopyArgs {
  readonly x: DataId;
  /** Where in x the copy starts, in elements. @defaultValue 0 */
  readonly xOffset?: number;
  readonly out: DataId;
  readonly size: number;
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
 * The geometry of a 2-D sliding window over an NHWC image batch, shared by {@link OptionalKernels.im2col} and
 * {@link OptionalKernels.col2im}. Output position (oh, ow) and kernel tap (kh, kw) read the input pixel
 * ih = oh·strideHeight − padTop + kh·dilationHeight, iw = ow·strideWidth − padLeft + kw·dilationWidth; a
 * pixel outside [0, height) × [0, width) is padding (0, or {@link Im2colArgs.padValue}). The output sizes are
 * given, not derived, so that any padding convention (TensorFlow's "same", PyTorch's explicit padding, padding
 * after) is expressible; rows or columns of windows that lie wholly in the padding are allowed and read only
 * padding.
 *
 * Every field is a non-negative safe integer (sizes in elements); the kernel sizes, strides and dilations are
 * at least 1. See {@link patchSizes} for the checks a backend runs.
 */
export interface PatchGeometry {
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Padding rows before the image (a window may also run past its end: those taps read padding too). */
  readonly padTop: number;
  /** Padding columns before the image. */
  readonly padLeft: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/**
 * im2col: the windows of `x` [batch, height, width, channels] (NHWC, contiguous) as the rows of the matrix
 * `out` [batch·outHeight·outWidth, kernelHeight·kernelWidth·channels]:
 * out[(n·outHeight + oh)·outWidth + ow, (kh·kernelWidth + kw)·channels + c] = x[n, ih, iw, c] (see
 * {@link PatchGeometry} for ih and iw), or `padValue` (default 0) where the tap falls in the padding. Every
 * element of `out` is written. A convolution is then one matmul of `out` by the kernel reshaped to
 * [kH·kW·channels, filters]; max pooling is a max over each row's taps with padValue −Infinity.
 */
export interface Im2colArgs extends PatchGeometry {
  readonly x: DataId;
  readonly out: DataId;
  /**
   * The value a tap in the padding reads, written as float32 (−0, ±Infinity and NaN included); default 0. A
   * convolution pads with 0; max pooling with −Infinity, so that the padding never wins. col2im needs no
   * counterpart: it drops the padding taps whatever they read.
   */
  readonly padValue?: number;
}

/**
 * col2im, the adjoint of im2col: `out` [batch, height, width, channels] = 0, then every element of `cols`
 * [batch·outHeight·outWidth, kernelHeight·kernelWidth·channels] is added to the input element that im2col read
 * it from (taps in the padding are dropped). So ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c, and a
 * convolution's input gradient is col2im(dY · Wᵀ). Every element of `out` is written.
 */
export interface Col2imArgs extends PatchGeometry {
  readonly cols: DataId;
  readonly out: DataId;
}

/**
 * im2col fused into a matrix product: `out` [batch·outHeight·outWidth, n] = im2col(x) · b, with `x` the NHWC
 * image of {@link Im2colArgs} (padding 0) and `b` [kernelHeight·kernelWidth·channels, n] row-major, without
 * materialising the patch matrix (a backend extracts a block of patch rows into cache and multiplies it there).
 * The same values as {@link OptionalKernels.im2col} followed by `matmul`, within float32 rounding. A
 * convolution's forward pass is this with b = the kernel reshaped to [kH·kW·channels, filters].
 */
export interface Im2colMatmulArgs extends PatchGeometry {
  readonly x: DataId;
  readonly b: DataId;
  /** Columns of b and of out. */
  readonly n: number;
  readonly out: DataId;
}

/**
 * Fast paths a backend may provide. Each has a composed fallback (in the core, or, for im2col, col2im and
 * im2colMatmul, in the plugin package that uses them) with the same results within float32 rounding, so
 * providing one never changes what a model computes.
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
  /** out[i] = x[i] over `size` values (the core otherwise runs the elementwise identity): a compiled step copies each batch in with it. */
  copy(args: CopyArgs): void;
  /** Patch extraction for convolutions over NHWC images; see {@link Im2colArgs}. */
  im2col(args: Im2colArgs): void;
  /** Its adjoint (scatter-add of the patches back into the image); see {@link Col2imArgs}. */
  col2im(args: Col2imArgs): void;
  /** im2col(x) · b without the patch matrix in memory; see {@link Im2colMatmulArgs}. */
  im2colMatmul(args: Im2colMatmulArgs): void;
}

/** The kernel names every backend must provide. */
export const REQUIRED_KERNELS = ["elementwise", "reduce", "matmul", "gather", "scatterAdd"] as const;

/** Every kernel name a backend may provide beyond the required ones. */
export const OPTIONAL_KERNELS = ["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward", "matmulEpilogue", "adam", "copy", "im2col", "col2im", "im2colMatmul"] as const satisfies readonly (keyof OptionalKernels)[];

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
