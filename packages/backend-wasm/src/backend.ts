import {
  type AdamArgs, type Backend, type BackendMemory, type DataId, type ElementwiseArgs, type Expr, type GatherArgs,
  type MatmulArgs, type MatmulEpilogueArgs, type OptionalKernels, type ReduceArgs, type RowsArgs, type RowsBackwardArgs,
  type ScatterAddArgs, checkViewBounds, collapseAxes, exprArity, input, mapExpr,
} from "@neurite/core";
import { type CompiledKernel, KernelCache, type KernelSpec, type Pattern, emitKernel } from "./codegen.js";
import { type KernelExports, MAX_PAGES } from "./loader.js";
import { WasmHeap, type WasmBuffer, bufferOf } from "./memory.js";
import { type Call, SLOT_VALUES, ThreadPool, exportTarget, flagCount } from "./threads.js";

/** Rows of C per matmul call: the epilogue then runs over a block still in cache. */
const ROW_BLOCK = 64;
/** Elementwise work below this many elements stays on one thread (waking workers costs more). */
const PARALLEL_MIN = 1 << 16;
/** Most blocks one threaded product is cut into (a shared task must fit one worker slot). */
const MAX_BLOCKS = 128;
/** Multiply-adds below which a matmul stays on one thread. */
const PARALLEL_MATMUL_MIN = 1 << 18;


function checkSize(kernel: string, what: string, buf: WasmBuffer, need: number): void {
  if (buf.size < need) throw new RangeError(`wasm ${kernel}: ${what} holds ${buf.size} values, fewer than the ${need} needed`);
}

interface ProgramInfo {
  used: Set<number>;
  inputs: number;
}

/** Options of {@link WasmBackend.create}. */
export interface WasmBackendInit {
  readonly kernels: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly threads: number;
  /** Why fewer threads than requested run, when so. */
  readonly threadsReason?: string;
  readonly threadsRequested: number;
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
  private readonly k: KernelExports;
  private readonly cache: KernelCache;
  private readonly programInfo = new Map<string, ProgramInfo>();
  private readonly kernelIds = new Map<string, { id: number; bytes: [number, number] }>();
  private readonly kernelFns: ((...args: number[]) => void)[] = [];
  private pool: ThreadPool | undefined;
  private readonly threadCount: number;
  private readonly init: WasmBackendInit;
  private disposed = false;
  // reused scratch blocks
  private packB = { ptr: 0, block: 0, bytes: 0 };
  private packA: { ptr: number; block: number }[] = [];
  private readonly matmulScratchBytes: number;

  /** Every optional fast path of the contract. */
  readonly kernels: Partial<OptionalKernels> = {
    softmax: (a) => this.rows("softmax", a, this.k.softmaxRows),
    logSoftmax: (a) => this.rows("logSoftmax", a, this.k.logSoftmaxRows),
    softmaxBackward: (a) => this.rowsBackward("softmaxBackward", a, this.k.softmaxBackwardRows),
    logSoftmaxBackward: (a) => this.rowsBackward("logSoftmaxBackward", a, this.k.logSoftmaxBackwardRows),
    adam: (a) => this.adam(a),
    matmulEpilogue: (a) => this.matmulEpilogue(a),
  };

  /** @internal use {@link wasmBackend} (or `WasmBackend.create`). */
  constructor(init: WasmBackendInit, instance: WebAssembly.Instance) {
    this.init = init;
    this.k = instance.exports as unknown as KernelExports;
    this.heap = new WasmHeap(init.memory, this.k.heapBase(), MAX_PAGES);
    this.matmulScratchBytes = this.k.matmulScratchBytes();
    const shared = typeof SharedArrayBuffer !== "undefined" && init.memory.buffer instanceof SharedArrayBuffer;
    this.cache = new KernelCache(init.memory, { initial: 1, maximum: MAX_PAGES, shared });
    this.threadCount = init.threads;
  }

  /** Instantiates the kernels and, for more than one thread, starts the workers. */
  static async create(init: WasmBackendInit): Promise<WasmBackend> {
    const instance = await WebAssembly.instantiate(init.kernels, { env: { memory: init.memory } });
    const b = new WasmBackend(init, instance);
    if (init.threads > 1) {
      const flags = b.heap.allocBytes(flagCount(init.threads) * 4);
      b.heap.f32.fill(0, flags.ptr >>> 2, (flags.ptr >>> 2) + flagCount(init.threads));
      const slots = b.heap.allocBytes((init.threads - 1) * SLOT_VALUES * 8);
      b.pool = await ThreadPool.create(init.threads, init.memory, init.kernels, flags.ptr, slots.ptr);
    }
    return b;
  }

  // ---- memory ----

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
  view(id: DataId): Float32Array {
    const b = bufferOf(id);
    return this.heap.f32.subarray(b.ptr >>> 2, (b.ptr >>> 2) + b.size);
  }

  capabilities(): Record<string, string | number | boolean> {
    const g = globalThis as { crossOriginIsolated?: boolean };
    const caps: Record<string, string | number | boolean> = {
      simd: true,
      threads: this.threadCount,
      threadsRequested: this.init.threadsRequested,
      sharedMemory: typeof SharedArrayBuffer !== "undefined" && this.init.memory.buffer instanceof SharedArrayBuffer,
      crossOriginIsolated: typeof g.crossOriginIsolated === "boolean" ? g.crossOriginIsolated : "n/a (not a browser)",
      compiledKernels: this.cache.size,
      memoryBytes: this.init.memory.buffer.byteLength,
    };
    if (this.init.threadsReason) caps.threadsFallbackReason = this.init.threadsReason;
    return caps;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool?.dispose();
    this.pool = undefined;
  }

  // ---- elementwise ----

  private info(program: Expr): ProgramInfo {
    let info = this.programInfo.get(program.key);
    if (!info) {
      const used = new Set<number>();
      mapExpr(program, (e) => {
        if (e.node.kind === "input") used.add(e.node.index);
        return undefined;
      });
      info = { used, inputs: exprArity(program).inputs };
      if (this.programInfo.size > 4096) this.programInfo.clear();
      this.programInfo.set(program.key, info);
    }
    return info;
  }

  private kernel(spec: KernelSpec): CompiledKernel {
    return this.cache.get(spec);
  }

  /** A run-time kernel as a thread task call (its bytes copied into memory once, for the workers). */
  private kernelCall(k: CompiledKernel, bytes: () => Uint8Array, args: number[]): Call {
    let entry = this.kernelIds.get(k.key);
    if (!entry) {
      const b = bytes();
      const { ptr } = this.heap.allocBytes(b.length);
      new Uint8Array(this.init.memory.buffer, ptr, b.length).set(b);
      entry = { id: this.kernelFns.length, bytes: [ptr, b.length] };
      this.kernelFns.push(k.fn);
      this.kernelIds.set(k.key, entry);
    }
    return { target: entry.id, args, bytes: entry.bytes };
  }

  elementwise(args: ElementwiseArgs): void {
    const { program, inputs, shape } = args;
    let n = 1;
    for (const size of shape) n *= size;
    if (n === 0) return;
    const info = this.info(program);
    if (info.inputs > inputs.length) {
      throw new RangeError(`wasm elementwise: the program reads input(${info.inputs - 1}) but only ${inputs.length} inputs were given`);
    }
    const bufs = inputs.map((v, k) => bufferOf(v.id, `input ${k}`));
    const out = bufferOf(args.out.id, "out");
    inputs.forEach((v, k) => checkViewBounds(v, bufs[k]!.size, shape, `wasm elementwise: input ${k}`));
    checkViewBounds(args.out, out.size, shape, "wasm elementwise: out");
    const c = collapseAxes(shape, [...inputs.map((v) => v.strides), args.out.strides]);
    const rank = c.shape.length;
    const inner = (st: readonly number[]): Pattern => (st[rank - 1] === 1 ? "c" : st[rank - 1] === 0 ? "b" : "s");
    const spec: KernelSpec = {
      outputs: [program],
      inputs: inputs.map((_, k) => (info.used.has(k) ? inner(c.strides[k]!) : "u")),
      outPatterns: [inner(c.strides[inputs.length]!)],
      scalars: args.scalars.length,
    };
    const operands = [{ ptr: out.ptr + args.out.offset * 4, strides: c.strides[inputs.length]! }];
    inputs.forEach((v, k) => operands.push({ ptr: bufs[k]!.ptr + v.offset * 4, strides: c.strides[k]! }));
    this.runElementwise(spec, c.shape, operands, args.scalars);
  }

  /**
   * Runs a kernel over a collapsed layout: operands are outputs first, then inputs, each with
   * a byte address and element strides per axis. Ranks above 2 loop over the leading axes here.
   */
  private runElementwise(spec: KernelSpec, shape: readonly number[], operands: readonly { ptr: number; strides: readonly number[] }[], scalars: readonly number[]): void {
    const compiled = this.kernel(spec);
    const rank = shape.length;
    const cols = shape[rank - 1]!;
    const rows = rank >= 2 ? shape[rank - 2]! : 1;
    const lead = shape.slice(0, Math.max(0, rank - 2));
    const argsFor = (base: readonly number[], r0: number, r1: number, c0: number, c1: number): number[] => {
      const a = [r1 - r0, c1 - c0];
      operands.forEach((op, i) => {
        const rs = rank >= 2 ? op.strides[rank - 2]! : 0;
        const cs = op.strides[rank - 1]!;
        a.push(base[i]! + (r0 * rs + c0 * cs) * 4, rs * 4, cs * 4);
      });
      for (const s of scalars) a.push(s);
      return a;
    };
    const total = rows * cols;
    const threads = this.pool && total >= PARALLEL_MIN ? this.threadCount : 1;
    const idx = lead.map(() => 0);
    const base = operands.map((op) => op.ptr);
    for (;;) {
      if (threads === 1) {
        compiled.fn(...argsFor(base, 0, rows, 0, cols));
      } else {
        const parts: Call[][] = [];
        const emit = (r0: number, r1: number, c0: number, c1: number): void => {
          parts.push([this.kernelCall(compiled, () => this.kernelBytes(spec), argsFor(base, r0, r1, c0, c1))]);
        };
        if (rows >= threads) {
          for (let t = 0; t < threads; t++) {
            const r0 = Math.floor((rows * t) / threads), r1 = Math.floor((rows * (t + 1)) / threads);
            if (r1 > r0) emit(r0, r1, 0, cols);
          }
        } else {
          // one long row: split the columns in multiples of 4 so that SIMD loops stay whole
          const chunk = Math.ceil(cols / threads / 4) * 4;
          for (let c0 = 0; c0 < cols; c0 += chunk) {
            for (let r = 0; r < rows; r++) emit(r, r + 1, c0, Math.min(cols, c0 + chunk));
          }
        }
        this.parallel(parts);
      }
      // odometer over the leading axes
      let d = lead.length - 1;
      for (; d >= 0; d--) {
        operands.forEach((op, i) => (base[i]! += op.strides[d]! * 4));
        if (++idx[d]! < lead[d]!) break;
        operands.forEach((op, i) => (base[i]! -= op.strides[d]! * 4 * lead[d]!));
        idx[d] = 0;
      }
      if (d < 0) return;
    }
  }

  private kernelBytes(spec: KernelSpec): Uint8Array {
    // re-emitting is cheap (well under a millisecond) and happens once per kernel used with threads
    return emitKernelBytes(spec, this.init.memory);
  }

  /** Runs parts across the pool (parts beyond the thread count are merged round-robin). */
  private parallel(parts: Call[][]): void {
    const pool = this.pool;
    if (!pool || parts.length <= 1) {
      for (const p of parts) this.runLocal(p);
      return;
    }
    const merged: Call[][] = [];
    for (let i = 0; i < parts.length; i++) {
      const t = i % pool.size;
      (merged[t] ??= []).push(...parts[i]!);
    }
    pool.run(merged, (calls) => this.runLocal(calls));
  }

  private runLocal(calls: readonly Call[]): void {
    for (const c of calls) {
      if (c.target === exportTarget("matmulRows")) this.k.matmulRows(...(c.args as Parameters<KernelExports["matmulRows"]>));
      else if (c.target === exportTarget("matmulPackB")) this.k.matmulPackB(...(c.args as Parameters<KernelExports["matmulPackB"]>));
      else this.kernelFns[c.target]!(...c.args);
    }
  }

  // ---- reductions ----

  reduce(args: ReduceArgs): void {
    const { op, outer, size, inner } = args;
    const x = bufferOf(args.x, "x");
    const out = bufferOf(args.out, "out");
    checkSize("reduce", "x", x, outer * size * inner);
    checkSize("reduce", "out", out, outer * inner);
    if (outer * inner === 0) return;
    if (size === 0) {
      this.k.fill(out.ptr, outer * inner, op === "sum" ? 0 : op === "max" ? -Infinity : op === "min" ? Infinity : NaN);
      return;
    }
    const sign = op === "max" || op === "argmax" ? 1 : -1;
    if (op === "sum") {
      if (inner === 1) this.k.sumRows(x.ptr, out.ptr, outer, size);
      else this.withScratch(inner * 8, (s) => this.k.sumInner(x.ptr, out.ptr, outer, size, inner, s));
    } else if (op === "max" || op === "min") {
      if (inner === 1) this.k.extremeRows(x.ptr, out.ptr, outer, size, sign);
      else this.k.extremeInner(x.ptr, out.ptr, outer, size, inner, sign);
    } else if (inner === 1) {
      this.k.argRows(x.ptr, out.ptr, outer, size, sign);
    } else {
      this.withScratch(inner * 4, (s) => this.k.argInner(x.ptr, out.ptr, outer, size, inner, sign, s));
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
    const { outer, axisSize, inner, count } = args;
    const x = bufferOf(args.x, "x");
    const indices = bufferOf(args.indices, "indices");
    const out = bufferOf(args.out, "out");
    checkSize("gather", "x", x, outer * axisSize * inner);
    checkSize("gather", "indices", indices, count);
    checkSize("gather", "out", out, outer * count * inner);
    this.checkIndices("gather", indices, count, axisSize);
    if (inner === 0 || outer === 0) return;
    this.k.gather(x.ptr, indices.ptr, out.ptr, outer, axisSize, inner, count);
  }

  scatterAdd(args: ScatterAddArgs): void {
    const { outer, axisSize, inner, count } = args;
    const src = bufferOf(args.src, "src");
    const indices = bufferOf(args.indices, "indices");
    const out = bufferOf(args.out, "out");
    checkSize("scatterAdd", "src", src, outer * count * inner);
    checkSize("scatterAdd", "indices", indices, count);
    checkSize("scatterAdd", "out", out, outer * axisSize * inner);
    this.checkIndices("scatterAdd", indices, count, axisSize);
    this.k.scatterAdd(src.ptr, indices.ptr, out.ptr, outer, axisSize, inner, count);
  }

  // ---- rows ----

  private rows(kernel: string, args: RowsArgs, fn: (x: number, out: number, rows: number, cols: number) => void): void {
    const x = bufferOf(args.x, "x");
    const out = bufferOf(args.out, "out");
    checkSize(kernel, "x", x, args.rows * args.cols);
    checkSize(kernel, "out", out, args.rows * args.cols);
    if (args.rows * args.cols === 0) return;
    fn(x.ptr, out.ptr, args.rows, args.cols);
  }

  private rowsBackward(kernel: string, args: RowsBackwardArgs, fn: (y: number, g: number, out: number, rows: number, cols: number) => void): void {
    const y = bufferOf(args.y, "y");
    const g = bufferOf(args.g, "g");
    const out = bufferOf(args.out, "out");
    for (const [what, b] of [["y", y], ["g", g], ["out", out]] as const) checkSize(kernel, what, b, args.rows * args.cols);
    if (args.rows * args.cols === 0) return;
    fn(y.ptr, g.ptr, out.ptr, args.rows, args.cols);
  }

  // ---- adam ----

  adam(args: AdamArgs): void {
    const p = bufferOf(args.param, "param");
    const g = bufferOf(args.grad, "grad");
    const m = bufferOf(args.m, "m");
    const v = bufferOf(args.v, "v");
    for (const [what, b] of [["param", p], ["grad", g], ["m", m], ["v", v]] as const) checkSize("adam", what, b, args.size);
    this.k.adam(p.ptr, g.ptr, m.ptr, v.ptr, args.size, args.lr, args.beta1, args.beta2, args.eps, args.biasCorrection1, args.biasCorrection2, args.weightDecay, args.decoupledWeightDecay);
  }

  // ---- matmul ----

  matmul(args: MatmulArgs): void {
    this.gemm(args, undefined);
  }

  /** matmul, then bias and activation (one run-time kernel) over each block of rows while it is in cache. */
  matmulEpilogue(args: MatmulEpilogueArgs): void {
    const bias = args.bias === undefined ? undefined : bufferOf(args.bias, "bias");
    if (bias && bias.size < args.n) throw new RangeError(`wasm matmulEpilogue: bias holds ${bias.size} values, fewer than n = ${args.n}`);
    const pre = args.preActivation === undefined ? undefined : bufferOf(args.preActivation, "preActivation");
    if (pre) checkSize("matmulEpilogue", "preActivation", pre, args.batch * args.m * args.n);
    if (!bias && !args.activation && !pre) {
      this.gemm(args, undefined);
      return;
    }
    const z = bias ? input(0).add(input(1)) : input(0);
    const a = args.activation ? mapExpr(args.activation, (e) => (e.node.kind === "input" && e.node.index === 0 ? z : undefined)) : z;
    const spec: KernelSpec = {
      outputs: pre ? [a, z] : [a],
      inputs: bias ? ["c", "c"] : ["c"],
      outPatterns: pre ? ["c", "c"] : ["c"],
      scalars: args.scalars.length,
    };
    const compiled = this.kernel(spec);
    this.gemm(args, { compiled, spec, bias, pre, scalars: args.scalars });
  }

  private ensurePackB(bytes: number): number {
    if (this.packB.bytes < bytes) {
      if (this.packB.bytes > 0) this.heap.freeBytes(this.packB.ptr, this.packB.block);
      const s = this.heap.allocBytes(bytes);
      this.packB = { ptr: s.ptr, block: s.block, bytes: s.block };
    }
    return this.packB.ptr;
  }

  private packAScratch(t: number): number {
    while (this.packA.length <= t) this.packA.push(this.heap.allocBytes(this.matmulScratchBytes));
    return this.packA[t]!.ptr;
  }

  private gemm(args: MatmulArgs, epi: { compiled: CompiledKernel; spec: KernelSpec; bias: WasmBuffer | undefined; pre: WasmBuffer | undefined; scalars: readonly number[] } | undefined): void {
    const { batch, m, n, k, transposeA, transposeB, aBatchStride, bBatchStride } = args;
    const a = bufferOf(args.a, "a");
    const b = bufferOf(args.b, "b");
    const c = bufferOf(args.out, "out");
    for (const [name, v] of [["batch", batch], ["m", m], ["n", n], ["k", k], ["aBatchStride", aBatchStride], ["bBatchStride", bBatchStride]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`wasm matmul: ${name} must be a non-negative integer, got ${v}`);
    }
    if (batch === 0 || m === 0 || n === 0) return;
    const need = (stride: number, size: number): number => (batch - 1) * stride + size;
    if (a.size < need(aBatchStride, m * k)) throw new RangeError(`wasm matmul: a holds ${a.size} values, fewer than batch ${batch} of ${m}×${k} (batch stride ${aBatchStride})`);
    if (b.size < need(bBatchStride, k * n)) throw new RangeError(`wasm matmul: b holds ${b.size} values, fewer than batch ${batch} of ${k}×${n} (batch stride ${bBatchStride})`);
    if (c.size < batch * m * n) throw new RangeError(`wasm matmul: out holds ${c.size} values, fewer than ${batch}×${m}×${n}`);
    const ars = transposeA ? 1 : k, acs = transposeA ? m : 1;
    const brs = transposeB ? 1 : n, bcs = transposeB ? k : 1;
    let rowsM = m;
    let batches = batch;
    // a shared B under a stack of row-major As is one tall product: pack B once, not once per matrix
    if (batch > 1 && bBatchStride === 0 && !transposeA && aBatchStride === m * k) {
      rowsM = batch * m;
      batches = 1;
    }
    const npad = (n + 7) & ~7;
    const bp = this.ensurePackB(Math.max(16, k * npad * 4));
    const threads = this.pool && rowsM * n * k >= PARALLEL_MATMUL_MIN && rowsM >= 8 ? this.threadCount : 1;
    for (let bt = 0; bt < batches; bt++) {
      const aPtr = a.ptr + bt * aBatchStride * 4;
      const bPtr = b.ptr + bt * bBatchStride * 4;
      const cPtr = c.ptr + bt * m * n * 4;
      // the block rows [r0, r1) × columns [j0, j1) of C, B's columns packed at bp + j0·k: the product, then
      // the epilogue while the block is in cache (matmulRows' last argument is the caller's packing scratch)
      const blockCalls = (r0: number, r1: number, j0: number, j1: number, scratch: number): Call[] => {
        const calls: Call[] = [{ target: exportTarget("matmulRows"), args: [aPtr, ars, acs, bp + j0 * k * 4, cPtr + j0 * 4, j1 - j0, n, k, r0, r1, scratch], scratchArg: 10 }];
        if (epi) {
          const at = (r0 * n + j0) * 4;
          const eargs: number[] = [r1 - r0, j1 - j0, cPtr + at, n * 4, 4];
          if (epi.pre) eargs.push(epi.pre.ptr + bt * m * n * 4 + at, n * 4, 4);
          eargs.push(cPtr + at, n * 4, 4);
          if (epi.bias) eargs.push(epi.bias.ptr + j0 * 4, 0, 4);
          for (const s of epi.scalars) eargs.push(s);
          calls.push(threads > 1 ? this.kernelCall(epi.compiled, () => this.kernelBytes(epi.spec), eargs) : { target: -1000, args: eargs });
        }
        return calls;
      };
      const packCall = (j0: number, j1: number): Call => ({ target: exportTarget("matmulPackB"), args: [bPtr + j0 * bcs * 4, brs, bcs, k, j1 - j0, bp + j0 * k * 4] });
      const rowBlocks = (j0: number, j1: number, scratch: number, rows = ROW_BLOCK): Call[][] => {
        const out: Call[][] = [];
        for (let r0 = 0; r0 < rowsM; r0 += rows) out.push(blockCalls(r0, Math.min(rowsM, r0 + rows), j0, j1, scratch));
        return out;
      };
      if (threads === 1) {
        this.runLocal([packCall(0, n)]);
        for (const calls of rowBlocks(0, n, this.packAScratch(0))) {
          for (const call of calls) {
            if (call.target === -1000) epi!.compiled.fn(...call.args);
            else this.runLocal([call]);
          }
        }
        continue;
      }
      // blocks claimed by whichever thread is free, at least four per thread, so that a thread on a busier
      // core takes fewer instead of holding up the rest. Wide products split columns: each block packs
      // its own columns of B, so no thread reads panels another core has just written. Narrow ones split
      // rows (multiples of the register tile's 4) over a B packed here.
      const scratch = Array.from({ length: this.pool!.size }, (_, t) => this.packAScratch(t));
      const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;
      // at least four column blocks per thread, 16 to 256 columns wide, and never more than half of MAX_BLOCKS
      const width = Math.max(Math.min(256, Math.max(16, roundUp(n / (4 * threads), 8))), roundUp(n / (MAX_BLOCKS / 2), 8));
      const groups: Call[][] = [];
      if (n >= 2 * threads * width) {
        const columnGroups = Math.ceil(n / width);
        // C blocks of about ROW_BLOCK × 256 values, and no more than MAX_BLOCKS in all (the task must fit a slot)
        const rows = roundUp(Math.max((ROW_BLOCK * 256) / width, rowsM / Math.floor(MAX_BLOCKS / columnGroups)), 4);
        for (let j0 = 0; j0 < n; j0 += width) {
          const j1 = Math.min(n, j0 + width);
          groups.push([packCall(j0, j1), ...rowBlocks(j0, j1, 0, rows).flat()]);
        }
      } else {
        this.runLocal([packCall(0, n)]);
        const rows = Math.min(ROW_BLOCK, Math.max(8, roundUp(rowsM / (4 * threads), 4)));
        groups.push(...rowBlocks(0, n, 0, Math.max(rows, roundUp(rowsM / MAX_BLOCKS, 4))));
      }
      this.pool!.runShared(groups, scratch, (calls) => this.runLocal(calls));
    }
  }
}

function emitKernelBytes(spec: KernelSpec, memory: WebAssembly.Memory): Uint8Array {
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  return emitKernel(spec, { initial: 1, maximum: MAX_PAGES, shared });
}
