import {
  type Backend, type BackendMemory, type DataId, type ElementwiseArgs, type GatherArgs, type Im2colMatmulArgs, type MatmulArgs,
  type MatmulEpilogueArgs, type OptionalKernels, type ReduceArgs, type ScatterAddArgs, patchSizes,
} from "@neurite/core";
import { adam } from "./adam.js";
import { epilogueKernel } from "./codegen.js";
import { elementwise, prepareElementwise } from "./elementwise.js";
import { gather, scatterAdd } from "./gather.js";
import { MatmulScratch, matmul, prepareMatmul } from "./matmul.js";
import { col2im, im2col } from "./patches.js";
import { CpuMemory, MAX_BUFFER_ELEMENTS, dataOf } from "./memory.js";
import { Scratch64, prepareReduce, reduce } from "./reduce.js";
import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from "./rows.js";

/**
 * The plain-TypeScript CPU backend: Float32Array buffers, expressions compiled to fused JavaScript loops,
 * a cache-blocked matmul, and every optional kernel. Single-threaded, no SIMD; works everywhere.
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  readonly package = "@neurite/backend-cpu";

  private readonly mem = new CpuMemory();
  private readonly matmulScratch = new MatmulScratch();
  private readonly scratch = new Scratch64();

  /** Every optional fast path of the contract. */
  readonly kernels: Partial<OptionalKernels> = {
    softmax: (args) => softmax(args, this.scratch),
    logSoftmax: (args) => logSoftmax(args),
    softmaxBackward: (args) => softmaxBackward(args),
    logSoftmaxBackward: (args) => logSoftmaxBackward(args),
    adam: (args) => adam(args),
    copy: ({ x, xOffset = 0, out, size }) => {
      const from = dataOf(x, "copy x");
      const to = dataOf(out, "copy out");
      if (!Number.isSafeInteger(size) || !Number.isSafeInteger(xOffset) || size < 0 || xOffset < 0 || xOffset + size > from.length || size > to.length) {
        throw new RangeError(`cpu copy: ${size} values from offset ${xOffset} must lie inside x (${from.length}) and fit out (${to.length})`);
      }
      to.set(xOffset === 0 && size === from.length ? from : from.subarray(xOffset, xOffset + size));
    },
    matmulEpilogue: (args) => this.matmulEpilogue(args),
    im2col: (args) => im2col(args),
    col2im: (args) => col2im(args),
    im2colMatmul: (args) => this.im2colMatmul(args),
  };

  /** The most bytes one buffer can have: this JavaScript engine's Float32Array limit, where it is known. */
  readonly maxBufferBytes = MAX_BUFFER_ELEMENTS === undefined ? undefined : MAX_BUFFER_ELEMENTS * 4;

  /** A buffer of `size` float32 values; contents unspecified (it may be a recycled array). */
  alloc(size: number): DataId {
    return this.mem.alloc(size);
  }

  /** A buffer holding a copy of `values`. */
  upload(values: Float32Array): DataId {
    return this.mem.upload(values);
  }

  /** A copy of the buffer's values. */
  read(id: DataId): Float32Array {
    return this.mem.read(id);
  }

  /** Same as {@link read}; CPU memory is always readable synchronously. */
  readAsync(id: DataId): Promise<Float32Array> {
    // errors (a freed handle) become rejections
    return Promise.resolve().then(() => this.mem.read(id));
  }

  /** Releases the buffer; its array may be recycled by a later alloc of the same size. Freeing twice is a no-op. */
  free(id: DataId): void {
    this.mem.free(id);
  }

  /** Live buffers and their bytes (recycled arrays waiting in the pool are not counted). */
  memory(): BackendMemory {
    return this.mem.memory();
  }

  elementwise(args: ElementwiseArgs): void {
    elementwise(args);
  }

  reduce(args: ReduceArgs): void {
    reduce(args, this.scratch);
  }

  matmul(args: MatmulArgs): void {
    matmul(args, this.matmulScratch);
  }

  /** im2col into a temporary buffer, then the blocked matmul (plain JavaScript gains nothing from fusing them). */
  private im2colMatmul(args: Im2colMatmulArgs): void {
    const { rows, cols, patchSize } = patchSizes(args, "cpu im2colMatmul");
    if (!Number.isSafeInteger(args.n) || args.n < 0) throw new RangeError(`cpu im2colMatmul: n must be an integer ≥ 0, got ${args.n}`);
    const patches = this.mem.alloc(patchSize);
    try {
      im2col({ ...args, out: patches });
      matmul({ a: patches, b: args.b, out: args.out, batch: 1, m: rows, n: args.n, k: cols, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 }, this.matmulScratch);
    } finally {
      this.mem.free(patches);
    }
  }

  gather(args: GatherArgs): void {
    gather(args);
  }

  scatterAdd(args: ScatterAddArgs): void {
    scatterAdd(args);
  }

  /** matmul, then bias and activation over each output row block while it is still in cache. */
  matmulEpilogue(args: MatmulEpilogueArgs): void {
    this.prepareMatmulEpilogue(args)();
  }

  private prepareMatmulEpilogue(args: MatmulEpilogueArgs): () => void {
    const bias = args.bias === undefined ? null : dataOf(args.bias, "bias");
    if (bias && bias.length < args.n) throw new RangeError(`cpu matmulEpilogue: bias holds ${bias.length} values, fewer than n = ${args.n}`);
    const pre = args.preActivation === undefined ? null : dataOf(args.preActivation, "preActivation");
    if (pre && pre.length < args.batch * args.m * args.n) throw new RangeError(`cpu matmulEpilogue: preActivation holds ${pre.length} values, fewer than the output's ${args.batch * args.m * args.n}`);
    if (!bias && !args.activation && !pre) return prepareMatmul(args, this.matmulScratch);
    const kernel = epilogueKernel(args.activation, bias !== null, pre !== null);
    return prepareMatmul(args, this.matmulScratch, { kernel, bias, scalars: args.scalars, pre });
  }

  /** Elementwise calls, reductions and products (with or without the Dense epilogue) are prepared: checks, layout and code once. */
  prepare(kernel: string, optional: boolean, args: unknown): (() => void) | undefined {
    if (!optional && kernel === "elementwise") return prepareElementwise(args as ElementwiseArgs);
    if (!optional && kernel === "matmul") return prepareMatmul(args as MatmulArgs, this.matmulScratch);
    if (!optional && kernel === "reduce") return prepareReduce(args as ReduceArgs, this.scratch);
    if (optional && kernel === "matmulEpilogue") return this.prepareMatmulEpilogue(args as MatmulEpilogueArgs);
    return undefined;
  }

  capabilities(): Record<string, string | number | boolean> {
    return { simd: false, threads: 1 };
  }

  /** Drops the recycled arrays; live buffers stay valid. */
  dispose(): void {
    this.mem.clearPool();
  }
}
