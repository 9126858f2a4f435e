/**
 * What a library adapter provides. The suites (suites.ts) drive every adapter the same way, so each
 * library is measured in the same conditions: inputs uploaded before timing, results read back inside it,
 * outputs freed after each run.
 */
import type { ActivationName } from "../config.js";
import type { Library } from "../protocol.js";

/**
 * A prepared computation over uploaded inputs. The CPU and WASM backends of both libraries compute when an
 * op is called (nothing is deferred: TF.js's WebGL would be), so `run` — compute, then free what it
 * created — times the kernel with its result left in the library's memory, which is how the copy ceiling
 * is measured too. `read` computes and also copies the values out to JavaScript (the checks use it; the
 * cost of reading back is its own row). The caller owns and frees the inputs.
 */
export interface Op {
  readonly run: () => void;
  readonly read: () => Float32Array;
}

/** The MLP of the training suite, in a library. */
export interface MlpModel<T> {
  /** One optimizer step; resolves to the loss before the step. */
  trainOnBatch(x: T, y: T): Promise<number>;
  /** `fit` over all samples for `epochs`, shuffled, with per-epoch and per-batch hooks. */
  fit(x: T, y: T, options: { epochs: number; batchSize: number }, hooks: FitHooks): Promise<void>;
  /** Inference (values read back). */
  predict(x: T): Float32Array;
  /** Current weights [W1, b1, W2, b2, …], W of shape [in, out]. */
  weights(): Float32Array[];
  /** The model as an ONNX file, where the library exports one (Neurite, through @neurite/onnx). */
  onnx?(): Uint8Array;
  dispose(): void;
}

/** An ONNX Runtime session on an exported model, with its input bound: the scale-out path's speed. */
export interface OnnxRuntimeSession {
  /** One inference. */
  run(): Promise<Float32Array>;
  close(): Promise<void>;
  readonly version: string;
}

export interface FitHooks {
  onEpochBegin(epoch: number): void;
  onEpochEnd(epoch: number): void;
  onBatchEnd(batch: number): void;
}

/** Tensors and bytes the library itself reports as live. */
export interface LibraryMemory {
  readonly tensors: number;
  readonly bytes: number;
}

/** How "backward" is measured for activations: the gradient of sum(g ⊙ f(x)) with respect to x. */
export type ActivationMode = "forward" | "backward";

export interface Runner<T> {
  readonly library: Library;
  readonly backend: string;
  /** Threads the backend computes with. */
  readonly threads: number;
  /** What the backend reports about itself (SIMD, threads, version). */
  readonly info: Readonly<Record<string, string | number | boolean>>;
  /** Remarks for the report (e.g. "gelu composed from erf"). */
  readonly notes: string[];
  tensor(values: Float32Array, shape: readonly number[]): T;
  /** Rows [start, end) of the first axis. */
  slice(t: T, start: number, end: number): T;
  free(t: T): void;
  /** The values of `t`, copied out to JavaScript (`dataSync`). */
  values(t: T): Float32Array;
  activation(name: ActivationName, x: T, mode: ActivationMode, g: T): Op;
  softmax(x: T, mode: ActivationMode, g: T): Op;
  matmul(a: T, b: T, transposeA: boolean, transposeB: boolean): Op;
  /** The 784-256-128-10 MLP (relu, relu, softmax + cross-entropy, Adam) with these initial weights. */
  mlp(weights: readonly Float32Array[]): MlpModel<T>;
  memory(): LibraryMemory;
  /**
   * The small suite's network (small-suite.ts): dense layers of `widths`, tanh on every layer, mean squared
   * error and plain SGD at the suite's learning rate, starting from `weights` ([W1, b1, …], W of shape [in, out]).
   */
  small(widths: readonly number[], weights: readonly Float32Array[]): SmallModel<T>;
  /** The conv suite's ops and the digits CNN (conv-suite.ts); absent where the adapter has none. */
  conv?: ConvOps<T>;
  /** Opens an exported model in ONNX Runtime (CPU, `threads` intra-op threads) on input `x`; undefined where not measured. */
  onnxRuntime?(model: Uint8Array, x: T, threads: number): Promise<OnnxRuntimeSession>;
}

/** The small suite's tanh network, in a library. */
export interface SmallModel<T> {
  /** One SGD step; resolves to the loss before the step. */
  trainOnBatch(x: T, y: T): Promise<number>;
  /** `fit` for one epoch over all samples, shuffled, in batches of `batchSize`, without callbacks. */
  fitEpoch(x: T, y: T, batchSize: number): Promise<void>;
  /** Current weights [W1, b1, W2, b2, …], W of shape [in, out]. */
  weights(): Float32Array[];
  dispose(): void;
}

/** The digits CNN of the conv suite, in a library. */
export interface CnnModel<T> {
  /** One optimizer step on NHWC images and one-hot labels; resolves to the loss before the step. */
  trainOnBatch(x: T, y: T): Promise<number>;
  /** Inference (values read back). */
  predict(x: T): Float32Array;
  /** Current weights [conv1 kernel, conv1 bias, conv2 kernel, conv2 bias, dense kernel, dense bias]. */
  weights(): Float32Array[];
  dispose(): void;
}

/** The conv suite's computations (NHWC images, kernels [kH, kW, C, F] as in Keras). */
export interface ConvOps<T> {
  /**
   * conv2d, stride 1, 'same' padding, no bias. "forward" gives the output; "backward" the gradients of
   * sum(g ⊙ conv2d(x, kernel)) with respect to x and to the kernel, read back as one array [dx..., dKernel...].
   */
  conv2d(x: T, kernel: T, mode: ActivationMode, g: T): Op;
  /**
   * conv 3×3 ×16 (relu, same) → maxPool 2 → conv 3×3 ×32 (relu, same) → global average pooling → dense 10
   * (softmax) on [n, 8, 8, 1], categorical cross-entropy and Adam (config's TRAIN settings), with these weights.
   */
  cnn(weights: readonly Float32Array[]): CnnModel<T>;
}

/** Thrown when a requested backend's package is not installed or not built: its rows say n/a. */
export class BackendUnavailable extends Error {}
