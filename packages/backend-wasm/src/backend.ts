import {
  ArgumentError, type AdamArgs, type Backend, type BackendMemory, type Col2imArgs, type DataId, type ElementwiseArgs, type GatherArgs,
  type CopyArgs, type Im2colArgs, type Im2colMatmulArgs, type MatmulArgs, type MatmulEpilogueArgs, type OptionalKernels, type PatchGeometry, type ReduceArgs, type RowsArgs,
  type RowsBackwardArgs, type ScatterAddArgs, forEachPatchRun, patchPadValue, patchSizes,
} from "@neurite/core";
import { checkSize } from "./checks.js";
import { KernelCache } from "./codegen.js";
import { ElementwiseRunner, PARALLEL_ADAM_MIN, elementwiseParts } from "./elementwise.js";
import { type KernelExports, MAX_PAGES, type PatchGeometryArgs } from "./loader.js";
import { MatmulScheduler } from "./matmul.js";
import { WasmHeap, type WasmBuffer, bufferOf } from "./memory.js";
import { TaskRunner } from "./task-runner.js";
import { type Call, exportTarget } from "./threads/protocol.js";

/** Options of {@link WasmBackend.create}. */
export interface WasmBackendInit {
  readonly kernels: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly threads: number;
  /** Why fewer threads than requested run, when so. */
  readonly threadsReason?: string;
  readonly threadsRequested: number;
  /** `fma: true` or `false` as asked for: the module loaded must match it. */
  readonly fmaRequired?: boolean;
}

/**
 * The WebAssembly backend: tensors live in one WebAssembly memory; matmul, reductions, softmax, gather and
 * Adam are AssemblyScript SIMD kernels; every elementwise expression (each op, each activation and its
 * derivative, the Dense epilogue) is compiled at run time into a small SIMD module. Optionally splits
 * large work across worker threads that share the memory.
 */
export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly package = "@neurite/backend-wasm";

  private readonly heap: WasmHeap;
  /** The AssemblyScript kernels (assembly/): matmul, reductions, rows, gather / scatter, Adam. */
  private readonly kernelExports: KernelExports;
  private readonly cache: KernelCache;
  private readonly tasks: TaskRunner;
  private readonly elementwiseRunner: ElementwiseRunner;
  private readonly matmulScheduler: MatmulScheduler;
  private readonly threadCount: number;
  private readonly init: WasmBackendInit;
  private disposed = false;

  /** Every optional fast path of the contract. */
  readonly kernels: Partial<OptionalKernels> = {
    softmax: (a) => this.rows("softmax", a, this.kernelExports.softmaxRows),
    logSoftmax: (a) => this.rows("logSoftmax", a, this.kernelExports.logSoftmaxRows),
    softmaxBackward: (a) => this.rowsBackward("softmaxBackward", a, this.kernelExports.softmaxBackwardRows),
    logSoftmaxBackward: (a) => this.rowsBackward("logSoftmaxBackward", a, this.kernelExports.logSoftmaxBackwardRows),
    adam: (a) => this.adam(a),
    copy: (a) => this.copy(a),
    matmulEpilogue: (a) => this.matmulEpilogue(a),
    im2col: (a) => this.im2col(a),
    col2im: (a) => this.col2im(a),
    im2colMatmul: (a) => this.im2colMatmul(a),
  };

  /** @internal use {@link wasmBackend} (or `WasmBackend.create`). */
  constructor(init: WasmBackendInit, instance: WebAssembly.Instance) {
    this.init = init;
    this.kernelExports = instance.exports as unknown as KernelExports;
    this.heap = new WasmHeap(init.memory, this.kernelExports.heapBase(), MAX_PAGES);
    const shared = typeof SharedArrayBuffer !== "undefined" && init.memory.buffer instanceof SharedArrayBuffer;
    this.cache = new KernelCache(init.memory, { initial: 1, maximum: MAX_PAGES, shared });
    this.threadCount = init.threads;
    this.tasks = new TaskRunner(this.kernelExports, this.heap, init.memory, init.threads);
    this.elementwiseRunner = new ElementwiseRunner(this.cache, this.tasks);
    this.matmulScheduler = new MatmulScheduler(this.kernelExports, this.heap, this.cache, this.tasks);
  }

  /** Instantiates the kernels and, for more than one thread, starts the workers. */
  static async create(init: WasmBackendInit): Promise<WasmBackend> {
    const instance = await WebAssembly.instantiate(init.kernels, { env: { memory: init.memory } });
    const fused = (instance.exports as unknown as KernelExports).matmulFused() === 1;
    if (init.fmaRequired !== undefined && init.fmaRequired !== fused) {
      throw new ArgumentError(`wasm backend: fma: ${init.fmaRequired} was asked for, but the kernels module given as wasm is the ${fused ? "fused (kernels-fma.wasm)" : "plain (kernels.wasm)"} build; pass ${fused ? "kernels.wasm" : "kernels-fma.wasm"} or leave fma out`);
    }
    const backend = new WasmBackend(init, instance);
    await backend.tasks.start(init.kernels);
    return backend;
  }

  // ---- memory ----

  /** The largest buffer this backend can ever hold: its memory's 2 GiB maximum less the kernels' static data. */
  get maxBufferBytes(): number {
    return this.heap.maxBlockBytes;
  }

  alloc(size: number): DataId {
    return this.heap.alloc(size);
  }

  upload(values: Float32Array): DataId {
    return this.heap.upload(values);
  }

  read(id: DataId): Float32Array {
    return this.heap.read(id);
  }

  readAsync(id: DataId): Promise<Float32Array> {
    return Promise.resolve().then(() => this.heap.read(id));
  }

  free(id: DataId): void {
    this.heap.free(id);
  }

  /** Live buffers and their bytes (blocks waiting in free lists are not counted). */
  memory(): BackendMemory {
    return this.heap.usage();
  }

  /** The WebAssembly memory's size, the allocator's high-water mark and the bytes held in free lists. */
  heapStats(): { memoryBytes: number; heapTop: number; pooledBytes: number } {
    return this.heap.stats();
  }

  /** A Float32Array over the whole WebAssembly memory (for tests and tools; re-fetch after allocating). */
  /** A copy inside the memory (`copyWithin`: no trip through JavaScript values). */
  copy({ x, xOffset = 0, out, size }: CopyArgs): void {
    this.tasks.beginKernel();
    const from = bufferOf(x, "copy x");
    const to = bufferOf(out, "copy out");
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(xOffset) || size < 0 || xOffset < 0 || xOffset + size > from.size || size > to.size) {
      throw new RangeError(`wasm copy: ${size} values from offset ${xOffset} must lie inside x (${from.size}) and fit out (${to.size})`);
    }
    const start = (from.ptr >>> 2) + xOffset;
    this.heap.f32.copyWithin(to.ptr >>> 2, start, start + size);
  }

  view(id: DataId): Float32Array {
    const b = bufferOf(id);
    return this.heap.f32.subarray(b.ptr >>> 2, (b.ptr >>> 2) + b.size);
  }

  capabilities(): Record<string, string | number | boolean> {
    const g = globalThis as { crossOriginIsolated?: boolean };
    const caps: Record<string, string | number | boolean> = {
      simd: true,
      matmul: this.kernelExports.matmulFused() === 1 ? "relaxed-simd-fma" : "simd128",
      threads: this.threadCount,
      threadsRequested: this.init.threadsRequested,
      sharedMemory: typeof SharedArrayBuffer !== "undefined" && this.init.memory.buffer instanceof SharedArrayBuffer,
      crossOriginIsolated: typeof g.crossOriginIsolated === "boolean" ? g.crossOriginIsolated : "n/a (not a browser)",
      compiledKernels: this.cache.size,
      memoryBytes: this.init.memory.buffer.byteLength,
      maxMemoryBytes: this.heap.limitBytes,
    };
    if (this.init.threadsReason) caps.threadsFallbackReason = this.init.threadsReason;
    return caps;
  }

  /** Threads the most recent kernel call ran on: 1 unless it was split across the pool (see the README's Threads). */
  lastKernelThreads(): number {
    return this.tasks.threadsUsed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.tasks.dispose();
  }

  // ---- elementwise ----

  /**
   * Elementwise calls and one-thread products (with or without the Dense epilogue) are prepared: their checks,
   * layout and kernel lookups are done once. The other kernels run as called.
   */
  prepare(kernel: string, optional: boolean, args: unknown): (() => void) | undefined {
    let run: (() => void) | undefined;
    if (!optional && kernel === "elementwise") run = this.elementwiseRunner.prepare(args as ElementwiseArgs);
    else if (!optional && kernel === "matmul") run = this.matmulScheduler.prepare(args as MatmulArgs, false);
    else if (optional && kernel === "matmulEpilogue") run = this.matmulScheduler.prepare(args as MatmulEpilogueArgs, true);
    if (!run) return undefined;
    const prepared = run;
    return () => {
      this.tasks.beginKernel();
      prepared();
    };
  }

  elementwise(args: ElementwiseArgs): void {
    this.tasks.beginKernel();
    this.elementwiseRunner.run(args);
  }

  // ---- reductions ----

  reduce(args: ReduceArgs): void {
    this.tasks.beginKernel();
    const { op, outer, size, inner } = args;
    const x = bufferOf(args.x, "x");
    const out = bufferOf(args.out, "out");
    checkSize("reduce", "x", x, outer * size * inner);
    checkSize("reduce", "out", out, outer * inner);
    if (outer * inner === 0) return;
    if (size === 0) {
      this.kernelExports.fill(out.ptr, outer * inner, op === "sum" ? 0 : op === "max" ? -Infinity : op === "min" ? Infinity : NaN);
      return;
    }
    const sign = op === "max" || op === "argmax" ? 1 : -1;
    if (op === "sum") {
      if (inner === 1) this.kernelExports.sumRows(x.ptr, out.ptr, outer, size);
      else this.withScratch(inner * 8, (s) => this.kernelExports.sumInner(x.ptr, out.ptr, outer, size, inner, s));
    } else if (op === "max" || op === "min") {
      if (inner === 1) this.kernelExports.extremeRows(x.ptr, out.ptr, outer, size, sign);
      else this.kernelExports.extremeInner(x.ptr, out.ptr, outer, size, inner, sign);
    } else if (inner === 1) {
      this.kernelExports.argRows(x.ptr, out.ptr, outer, size, sign);
    } else {
      this.withScratch(inner * 4, (s) => this.kernelExports.argInner(x.ptr, out.ptr, outer, size, inner, sign, s));
    }
  }

  private withScratch(bytes: number, fn: (ptr: number) => void): void {
    const s = this.heap.allocBytes(bytes);
    try {
      fn(s.ptr);
    } finally {
      this.heap.freeBytes(s.ptr, s.block);
    }
  }

  // ---- gather / scatter ----

  private checkIndices(kernel: string, indices: WasmBuffer, count: number, axisSize: number): void {
    const f32 = this.heap.f32;
    const start = indices.ptr >>> 2;
    for (let c = 0; c < count; c++) {
      const idx = f32[start + c]!;
      if (!Number.isInteger(idx) || idx < 0 || idx >= axisSize) {
        throw new RangeError(`wasm ${kernel}: index ${idx} at position ${c} is out of range for an axis of size ${axisSize} (indices must be integers in [0, ${axisSize}))`);
      }
    }
  }

  gather(args: GatherArgs): void {
    this.tasks.beginKernel();
    const { outer, axisSize, inner, count } = args;
    const x = bufferOf(args.x, "x");
    const indices = bufferOf(args.indices, "indices");
    const out = bufferOf(args.out, "out");
    checkSize("gather", "x", x, outer * axisSize * inner);
    checkSize("gather", "indices", indices, count);
    checkSize("gather", "out", out, outer * count * inner);
    this.checkIndices("gather", indices, count, axisSize);
    if (inner === 0 || outer === 0) return;
    this.kernelExports.gather(x.ptr, indices.ptr, out.ptr, outer, axisSize, inner, count);
  }

  scatterAdd(args: ScatterAddArgs): void {
    this.tasks.beginKernel();
    const { outer, axisSize, inner, count } = args;
    const src = bufferOf(args.src, "src");
    const indices = bufferOf(args.indices, "indices");
    const out = bufferOf(args.out, "out");
    checkSize("scatterAdd", "src", src, outer * count * inner);
    checkSize("scatterAdd", "indices", indices, count);
    checkSize("scatterAdd", "out", out, outer * axisSize * inner);
    this.checkIndices("scatterAdd", indices, count, axisSize);
    this.kernelExports.scatterAdd(src.ptr, indices.ptr, out.ptr, outer, axisSize, inner, count);
  }

  // ---- im2col / col2im ----

  /**
   * im2col over NHWC (see core's Im2colArgs): each window's taps copied as runs of channels with v128 stores,
   * padding taps filled with `padValue` (default 0) by f32x4 splats.
   */
  im2col(args: Im2colArgs): void {
    this.tasks.beginKernel();
    const sizes = patchSizes(args, "wasm im2col");
    const padValue = patchPadValue(args, "wasm im2col");
    const x = bufferOf(args.x, "x");
    const out = bufferOf(args.out, "out");
    checkSize("im2col", "x", x, sizes.imageSize);
    checkSize("im2col", "out", out, sizes.patchSize);
    if (sizes.patchSize === 0) return;
    if (fitsI32(args)) {
      this.kernelExports.im2col(x.ptr, out.ptr, ...patchGeometryArgs(args), padValue);
      return;
    }
    const f32 = this.heap.f32, xs = x.ptr >>> 2, os = out.ptr >>> 2, c = args.channels;
    forEachPatchRun(args, (row, src) => {
      if (src < 0) f32.fill(padValue, os + row, os + row + c);
      else f32.copyWithin(os + row, xs + src, xs + src + c);
    });
  }

  /** col2im, im2col's adjoint: the image zeroed, then every patch value added back with f32x4 adds. */
  col2im(args: Col2imArgs): void {
    this.tasks.beginKernel();
    const sizes = patchSizes(args, "wasm col2im");
    const cols = bufferOf(args.cols, "cols");
    const out = bufferOf(args.out, "out");
    checkSize("col2im", "cols", cols, sizes.patchSize);
    checkSize("col2im", "out", out, sizes.imageSize);
    if (sizes.imageSize === 0) return;
    if (fitsI32(args)) {
      this.kernelExports.col2im(cols.ptr, out.ptr, ...patchGeometryArgs(args));
      return;
    }
    const f32 = this.heap.f32, cs = cols.ptr >>> 2, os = out.ptr >>> 2, c = args.channels;
    f32.fill(0, os, os + sizes.imageSize);
    forEachPatchRun(args, (row, dst) => {
      if (dst >= 0) for (let k = 0; k < c; k++) f32[os + dst + k]! += f32[cs + row + k]!;
    });
  }

  /**
   * im2col(x) · b: on one thread, blocks of patch rows extracted into cache and multiplied there; on several
   * (or for coordinates beyond i32), im2col into a buffer, then the threaded matmul.
   */
  im2colMatmul(args: Im2colMatmulArgs): void {
    const sizes = patchSizes(args, "wasm im2colMatmul");
    const { n } = args;
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`wasm im2colMatmul: n must be an integer ≥ 0, got ${n}`);
    const x = bufferOf(args.x, "x");
    const b = bufferOf(args.b, "b");
    const out = bufferOf(args.out, "out");
    checkSize("im2colMatmul", "x", x, sizes.imageSize);
    checkSize("im2colMatmul", "b", b, sizes.cols * n);
    checkSize("im2colMatmul", "out", out, sizes.rows * n);
    if (sizes.rows * n === 0) return;
    if (this.threadCount === 1 && fitsI32(args)) {
      this.matmulScheduler.im2colMatmul(x, b, out, n, sizes.rows, sizes.cols, patchGeometryArgs(args));
      return;
    }
    const patches = this.heap.alloc(sizes.patchSize);
    try {
      this.im2col({ ...args, out: patches });
      this.matmul({ a: patches, b: args.b, out: args.out, batch: 1, m: sizes.rows, n, k: sizes.cols, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    } finally {
      this.heap.free(patches);
    }
  }

  // ---- rows ----

  private rows(kernel: string, args: RowsArgs, fn: (x: number, out: number, rows: number, cols: number) => void): void {
    this.tasks.beginKernel();
    const x = bufferOf(args.x, "x");
    const out = bufferOf(args.out, "out");
    checkSize(kernel, "x", x, args.rows * args.cols);
    checkSize(kernel, "out", out, args.rows * args.cols);
    if (args.rows * args.cols === 0) return;
    fn(x.ptr, out.ptr, args.rows, args.cols);
  }

  private rowsBackward(kernel: string, args: RowsBackwardArgs, fn: (y: number, g: number, out: number, rows: number, cols: number) => void): void {
    this.tasks.beginKernel();
    const y = bufferOf(args.y, "y");
    const g = bufferOf(args.g, "g");
    const out = bufferOf(args.out, "out");
    for (const [what, b] of [["y", y], ["g", g], ["out", out]] as const) checkSize(kernel, what, b, args.rows * args.cols);
    if (args.rows * args.cols === 0) return;
    fn(y.ptr, g.ptr, out.ptr, args.rows, args.cols);
  }

  // ---- adam ----

  adam(args: AdamArgs): void {
    this.tasks.beginKernel();
    const param = bufferOf(args.param, "param");
    const grad = bufferOf(args.grad, "grad");
    // Adam's first and second moment estimates
    const m = bufferOf(args.m, "m");
    const v = bufferOf(args.v, "v");
    for (const [what, buffer] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) checkSize("adam", what, buffer, args.size);
    const hyper = [args.lr, args.beta1, args.beta2, args.eps, args.biasCorrection1, args.biasCorrection2, args.weightDecay, args.decoupledWeightDecay] as const;
    const parts = elementwiseParts(args.size, this.tasks.threads, PARALLEL_ADAM_MIN);
    if (parts === 1) {
      this.kernelExports.adam(param.ptr, grad.ptr, m.ptr, v.ptr, args.size, ...hyper);
      return;
    }
    // each element's update stands alone, so any split gives the same bits; chunks of whole SIMD lanes
    const chunk = Math.ceil(args.size / parts / 4) * 4;
    const groups: Call[][] = [];
    for (let start = 0; start < args.size; start += chunk) {
      const at = start * 4;
      groups.push([{ target: exportTarget("adam"), args: [param.ptr + at, grad.ptr + at, m.ptr + at, v.ptr + at, Math.min(chunk, args.size - start), ...hyper] }]);
    }
    this.tasks.runShared(groups);
  }

  // ---- matmul ----

  matmul(args: MatmulArgs): void {
    this.tasks.beginKernel();
    this.matmulScheduler.matmul(args);
  }

  /** matmul, then bias and activation (one run-time kernel) over each block of rows while it is in cache. */
  matmulEpilogue(args: MatmulEpilogueArgs): void {
    this.tasks.beginKernel();
    this.matmulScheduler.matmulEpilogue(args);
  }
}

const I32_MAX = 2 ** 31 - 1;

/**
 * Whether the AssemblyScript kernels' i32 coordinate arithmetic is exact for `g`: every field, and every input
 * coordinate y·stride − pad + i·dilation they compute, lies in (−2^31, 2^31). Sizes and offsets are already
 * bounded by the 2 GiB memory (the buffer checks); only strides, dilations and padding far beyond the image
 * (windows wholly in the padding) can break this, and those take the exact JavaScript loop.
 */
function fitsI32(g: PatchGeometry): boolean {
  const reach = (out: number, stride: number, kernel: number, dilation: number): number => Math.max(out - 1, 0) * stride + (kernel - 1) * dilation + kernel;
  return reach(g.outHeight, g.strideHeight, g.kernelHeight, g.dilationHeight) <= I32_MAX && reach(g.outWidth, g.strideWidth, g.kernelWidth, g.dilationWidth) <= I32_MAX &&
    patchGeometryArgs(g).every((v) => v <= I32_MAX);
}

/** The geometry as the AssemblyScript kernels take it (i32 each; see {@link fitsI32}). */
function patchGeometryArgs(g: PatchGeometry): PatchGeometryArgs {
  return [
    g.batch, g.height, g.width, g.channels, g.kernelHeight, g.kernelWidth, g.strideHeight, g.strideWidth,
    g.dilationHeight, g.dilationWidth, g.padTop, g.padLeft, g.outHeight, g.outWidth,
  ];
}
