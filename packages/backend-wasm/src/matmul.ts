// Matmul scheduling: cuts a (batched) product into blocks of rows and columns for the AssemblyScript
// kernels (B packed into panels, then the product of each block), runs the Dense epilogue over each block
// while it is in cache, and spreads the blocks over the threads.
import { type MatmulArgs, type MatmulEpilogueArgs, expr, input, mapExpr } from "@neurite/core";
import { checkSize } from "./checks.js";
import type { KernelCache } from "./codegen.js";
import type { CompiledKernel, KernelSpec } from "./kernel-spec.js";
import type { KernelExports, PatchGeometryTail } from "./loader.js";
import { type WasmBuffer, type WasmHeap, bufferOf } from "./memory.js";
import type { TaskRunner } from "./task-runner.js";
import { type Call, exportTarget } from "./threads/protocol.js";

/** Rows of C per matmul call: the epilogue then runs over a block still in cache. */
const ROW_BLOCK = 64;
/** Most blocks one threaded product is cut into (a shared task must fit one worker slot). */
const MAX_BLOCKS = 128;
/**
 * Multiply-adds below which a matmul stays on one thread. Measured with scripts/cutover.mjs on the 2-core VM at
 * load average 1.4 (1 vs 2 threads, alternating, medians): products of 2^20–2^22 multiply-adds ran at 0.63–0.79×
 * on two threads, 2^23 at 1.02–1.34× depending on the shape, 2^24 and more at 1.3–1.6× (see the README's Threads).
 * Since workers spin between tasks (SPIN_MS), products of 2^22 alone reach 1.6–2.1×, but inside a training step,
 * where the other core has just written their operands, 0.9–1.05× (profile-mlp.mjs), so the cut-over stays.
 */
export const PARALLEL_MATMUL_MIN = 1 << 23;

/** Threads a product of m × k by k × n runs on, out of `threads`: 1 below {@link PARALLEL_MATMUL_MIN} or 8 rows. */
export function matmulThreads(m: number, n: number, k: number, threads: number): number {
  return m * n * k >= PARALLEL_MATMUL_MIN && m >= 8 ? threads : 1;
}
/**
 * Call target of a block's epilogue on one thread: the caller runs the compiled kernel directly, so the
 * kernel needs no worker id (and no copy of its bytes in memory). Distinct from every export target (< 0,
 * small) and run-time kernel id (≥ 0).
 */
const EPILOGUE_ON_THIS_THREAD = -1000;

/** A checked product and how it is cut (see MatmulScheduler.layout). */
interface GemmLayout {
  readonly a: WasmBuffer;
  readonly b: WasmBuffer;
  readonly c: WasmBuffer;
  /** Rows of the product as run: m, or batch·m when a shared B makes the batch one tall product. */
  readonly rowsM: number;
  readonly batches: number;
  readonly packedBytes: number;
  readonly threads: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  readonly bRowStride: number;
  readonly bColStride: number;
}

/** The run-time kernel of a Dense epilogue and the buffers it reads and writes besides C. */
interface Epilogue {
  readonly compiled: CompiledKernel;
  readonly spec: KernelSpec;
  readonly bias: WasmBuffer | undefined;
  /** Where the pre-activation is kept (for the backward pass), if asked for. */
  readonly preActivation: WasmBuffer | undefined;
  readonly scalars: readonly number[];
}

const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;

/** Runs matmul and matmulEpilogue; keeps the packing scratch (B's panels, one A panel per thread) between calls. */
export class MatmulScheduler {
  /** Where B is packed, reused while large enough. */
  private packedB = { ptr: 0, block: 0, bytes: 0 };
  /** Per thread: the scratch matmulRows packs A into. */
  private readonly packA: { ptr: number; block: number }[] = [];
  private readonly packAScratchBytes: number;

  constructor(
    private readonly kernelExports: KernelExports,
    private readonly heap: WasmHeap,
    private readonly cache: KernelCache,
    private readonly tasks: TaskRunner,
  ) {
    this.packAScratchBytes = kernelExports.matmulScratchBytes();
  }

  matmul(args: MatmulArgs): void {
    this.gemm(args, undefined);
  }

  /** matmul, then bias and activation (one run-time kernel) over each block of rows while it is in cache. */
  matmulEpilogue(args: MatmulEpilogueArgs): void {
    this.gemm(args, this.epilogueOf(args));
  }

  /**
   * matmul or matmulEpilogue with the checks, the epilogue's kernel and the block calls worked out once
   * (Backend.prepare). Undefined where the product runs on more than one thread (it is then scheduled at
   * each call). If B's packing scratch is reallocated by a larger product in between, the calls are
   * worked out again.
   */
  prepare(args: MatmulArgs | MatmulEpilogueArgs, withEpilogue: boolean): (() => void) | undefined {
    const epilogue = withEpilogue ? this.epilogueOf(args as MatmulEpilogueArgs) : undefined;
    const layout = this.layout(args);
    if (layout === undefined) return () => undefined;
    if (layout.threads > 1) return undefined;
    let packedB = -1;
    let calls: Call[] = [];
    return () => {
      if (this.packedB.ptr !== packedB || this.packedB.bytes < layout.packedBytes) {
        calls = this.singleThreadCalls(args, layout, epilogue);
        packedB = this.packedB.ptr;
      }
      for (const call of calls) {
        if (call.target === EPILOGUE_ON_THIS_THREAD) epilogue!.compiled.fn(...call.args);
        else this.tasks.runLocal([call]);
      }
    };
  }

  /** The epilogue of a matmulEpilogue call (its checks and its compiled kernel), or undefined when it has none. */
  private epilogueOf(args: MatmulEpilogueArgs): Epilogue | undefined {
    if (args.activation !== undefined) expr.assertExpr(args.activation, "wasm matmulEpilogue: the activation");
    const bias = args.bias === undefined ? undefined : bufferOf(args.bias, "bias");
    if (bias && bias.size < args.n) throw new RangeError(`wasm matmulEpilogue: bias holds ${bias.size} values, fewer than n = ${args.n}`);
    const pre = args.preActivation === undefined ? undefined : bufferOf(args.preActivation, "preActivation");
    if (pre) checkSize("matmulEpilogue", "preActivation", pre, args.batch * args.m * args.n);
    if (!bias && !args.activation && !pre) return undefined;
    const z = bias ? input(0).add(input(1)) : input(0);
    const a = args.activation ? mapExpr(args.activation, (e) => (e.node.kind === "input" && e.node.index === 0 ? z : undefined)) : z;
    const spec: KernelSpec = {
      outputs: pre ? [a, z] : [a],
      inputs: bias ? ["c", "c"] : ["c"],
      outPatterns: pre ? ["c", "c"] : ["c"],
      scalars: args.scalars.length,
    };
    const compiled = this.cache.get(spec);
    return { compiled, spec, bias, preActivation: pre, scalars: args.scalars };
  }

  /**
   * out [rows, n] = im2col(x) · b on this thread: B packed once, then each block of 64 patch rows extracted into
   * cache and multiplied there (assembly/patches.ts), so the patch matrix is never in memory. The caller has
   * checked the geometry, the buffers and that its coordinates fit the kernels' i32 arithmetic.
   */
  im2colMatmul(x: WasmBuffer, b: WasmBuffer, out: WasmBuffer, n: number, rows: number, k: number, geometry: readonly number[]): void {
    const paddedN = (n + 7) & ~7;
    const packedB = this.ensurePackedB(Math.max(16, k * paddedN * 4));
    this.kernelExports.matmulPackB(b.ptr, n, 1, k, n, packedB);
    const block = this.heap.allocBytes(Math.max(16, 64 * k * 4));
    try {
      // geometry without batch: [height, width, channels, kH, kW, strides, dilations, pads, outH, outW]
      this.kernelExports.im2colMatmulRows(x.ptr, ...(geometry.slice(1) as PatchGeometryTail), packedB, out.ptr, n, 0, rows, block.ptr, this.packAScratch(0));
    } finally {
      this.heap.freeBytes(block.ptr, block.block);
    }
  }

  private ensurePackedB(bytes: number): number {
    if (this.packedB.bytes < bytes) {
      // allocate before freeing the old block: if this throws, packedB must still own a live block
      const s = this.heap.allocBytes(bytes);
      if (this.packedB.bytes > 0) this.heap.freeBytes(this.packedB.ptr, this.packedB.block);
      this.packedB = { ptr: s.ptr, block: s.block, bytes: s.block };
    }
    return this.packedB.ptr;
  }

  private packAScratch(thread: number): number {
    while (this.packA.length <= thread) this.packA.push(this.heap.allocBytes(this.packAScratchBytes));
    return this.packA[thread]!.ptr;
  }

  /** The checked sizes of a product and how it is cut: undefined when it is empty. */
  private layout(args: MatmulArgs): GemmLayout | undefined {
    const { batch, m, n, k, transposeA, transposeB, aBatchStride, bBatchStride } = args;
    const a = bufferOf(args.a, "a");
    const b = bufferOf(args.b, "b");
    const c = bufferOf(args.out, "out");
    for (const [name, v] of [["batch", batch], ["m", m], ["n", n], ["k", k], ["aBatchStride", aBatchStride], ["bBatchStride", bBatchStride]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`wasm matmul: ${name} must be a non-negative integer, got ${v}`);
    }
    if (batch === 0 || m === 0 || n === 0) return undefined;
    const need = (stride: number, size: number): number => (batch - 1) * stride + size;
    if (a.size < need(aBatchStride, m * k)) throw new RangeError(`wasm matmul: a holds ${a.size} values, fewer than batch ${batch} of ${m}×${k} (batch stride ${aBatchStride})`);
    if (b.size < need(bBatchStride, k * n)) throw new RangeError(`wasm matmul: b holds ${b.size} values, fewer than batch ${batch} of ${k}×${n} (batch stride ${bBatchStride})`);
    if (c.size < batch * m * n) throw new RangeError(`wasm matmul: out holds ${c.size} values, fewer than ${batch}×${m}×${n}`);
    let rowsM = m;
    let batches = batch;
    // a shared B under a stack of row-major As is one tall product: pack B once, not once per matrix
    if (batch > 1 && bBatchStride === 0 && !transposeA && aBatchStride === m * k) {
      rowsM = batch * m;
      batches = 1;
    }
    const paddedN = (n + 7) & ~7;
    return {
      a, b, c, rowsM, batches, packedBytes: Math.max(16, k * paddedN * 4), threads: matmulThreads(rowsM, n, k, this.tasks.threads),
      // element strides of A's and B's rows and columns
      aRowStride: transposeA ? 1 : k, aColStride: transposeA ? m : 1, bRowStride: transposeB ? 1 : n, bColStride: transposeB ? k : 1,
    };
  }

  /** Every call of a one-thread product, in order (packing B, then each block's product and epilogue). */
  private singleThreadCalls(args: MatmulArgs, layout: GemmLayout, epilogue: Epilogue | undefined): Call[] {
    const packedB = this.ensurePackedB(layout.packedBytes);
    const scratch = this.packAScratch(0);
    const calls: Call[] = [];
    for (let bt = 0; bt < layout.batches; bt++) {
      const g = this.batchCalls(args, layout, epilogue, bt, packedB, 1);
      calls.push(g.packCall(0, args.n));
      for (const block of g.rowBlocks(0, args.n, scratch)) calls.push(...block);
    }
    return calls;
  }

  /** The calls of batch `bt`'s product: packing columns of B, and the blocks of rows of C with their epilogue. */
  private batchCalls(args: MatmulArgs, layout: GemmLayout, epilogue: Epilogue | undefined, bt: number, packedB: number, threads: number) {
    const { m, n, k, aBatchStride, bBatchStride } = args;
    const { a, b, c, rowsM, aRowStride, aColStride, bRowStride, bColStride } = layout;
    const aPtr = a.ptr + bt * aBatchStride * 4;
    const bPtr = b.ptr + bt * bBatchStride * 4;
    const cPtr = c.ptr + bt * m * n * 4;
    // the block rows [r0, r1) × columns [j0, j1) of C, B's columns packed at packedB + j0·k: the product,
    // then the epilogue while the block is in cache (matmulRows' last argument is the caller's packing scratch)
    const blockCalls = (r0: number, r1: number, j0: number, j1: number, scratch: number): Call[] => {
      const calls: Call[] = [{ target: exportTarget("matmulRows"), args: [aPtr, aRowStride, aColStride, packedB + j0 * k * 4, cPtr + j0 * 4, j1 - j0, n, k, r0, r1, scratch], scratchArg: 10 }];
      if (epilogue) {
        const at = (r0 * n + j0) * 4;
        const epilogueArgs: number[] = [r1 - r0, j1 - j0, cPtr + at, n * 4, 4];
        if (epilogue.preActivation) epilogueArgs.push(epilogue.preActivation.ptr + bt * m * n * 4 + at, n * 4, 4);
        epilogueArgs.push(cPtr + at, n * 4, 4);
        if (epilogue.bias) epilogueArgs.push(epilogue.bias.ptr + j0 * 4, 0, 4);
        for (const s of epilogue.scalars) epilogueArgs.push(s);
        calls.push(threads > 1 ? this.tasks.kernelCall(epilogue.compiled, epilogue.spec, epilogueArgs) : { target: EPILOGUE_ON_THIS_THREAD, args: epilogueArgs });
      }
      return calls;
    };
    const packCall = (j0: number, j1: number): Call => ({ target: exportTarget("matmulPackB"), args: [bPtr + j0 * bColStride * 4, bRowStride, bColStride, k, j1 - j0, packedB + j0 * k * 4] });
    const rowBlocks = (j0: number, j1: number, scratch: number, rows = ROW_BLOCK): Call[][] => {
      const out: Call[][] = [];
      for (let r0 = 0; r0 < rowsM; r0 += rows) out.push(blockCalls(r0, Math.min(rowsM, r0 + rows), j0, j1, scratch));
      return out;
    };
    return { packCall, rowBlocks };
  }

  private gemm(args: MatmulArgs, epilogue: Epilogue | undefined): void {
    const layout = this.layout(args);
    if (layout === undefined) return;
    const { threads, rowsM, batches } = layout;
    const { n } = args;
    if (threads === 1) {
      for (const call of this.singleThreadCalls(args, layout, epilogue)) {
        if (call.target === EPILOGUE_ON_THIS_THREAD) epilogue!.compiled.fn(...call.args);
        else this.tasks.runLocal([call]);
      }
      return;
    }
    const packedB = this.ensurePackedB(layout.packedBytes);
    for (let bt = 0; bt < batches; bt++) {
      const { packCall, rowBlocks } = this.batchCalls(args, layout, epilogue, bt, packedB, threads);
      // blocks claimed by whichever thread is free, at least four per thread, so that a thread on a busier
      // core takes fewer instead of holding up the rest. Wide products split columns: each block packs
      // its own columns of B, so no thread reads panels another core has just written. Narrow ones split
      // rows (multiples of the register tile's 4) over a B packed here, and so do tall ones (m ≥ 2n), where
      // each column block would pack all of A again: rows ran 1024×784×256 in 5.35–5.39 ms against 5.94–6.05,
      // 784×128×256 (xᵀ·dZ) in 0.67–0.69 against 0.74–0.86 (two threads, alternating in one process).
      const scratch = Array.from({ length: threads }, (_, t) => this.packAScratch(t));
      // at least four column blocks per thread, 16 to 256 columns wide, and never more than half of MAX_BLOCKS
      const width = Math.max(Math.min(256, Math.max(16, roundUp(n / (4 * threads), 8))), roundUp(n / (MAX_BLOCKS / 2), 8));
      const groups: Call[][] = [];
      if (n >= 2 * threads * width && rowsM < 2 * n) {
        const columnGroups = Math.ceil(n / width);
        // C blocks of about ROW_BLOCK × 256 values, and no more than MAX_BLOCKS in all (the task must fit a slot)
        const rows = roundUp(Math.max((ROW_BLOCK * 256) / width, rowsM / Math.floor(MAX_BLOCKS / columnGroups)), 4);
        for (let j0 = 0; j0 < n; j0 += width) {
          const j1 = Math.min(n, j0 + width);
          groups.push([packCall(j0, j1), ...rowBlocks(j0, j1, 0, rows).flat()]);
        }
      } else {
        this.tasks.runLocal([packCall(0, n)]);
        const rows = Math.min(ROW_BLOCK, Math.max(8, roundUp(rowsM / (4 * threads), 4)));
        groups.push(...rowBlocks(0, n, 0, Math.max(rows, roundUp(rowsM / MAX_BLOCKS, 4))));
      }
      this.tasks.runShared(groups, scratch);
    }
  }
}
