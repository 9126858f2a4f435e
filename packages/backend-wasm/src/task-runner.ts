// Where kernel calls run: on this thread, or across the worker pool. Run-time kernels that go to workers
// get an id here and their module bytes a place in shared memory, once each.
import { emitKernel } from "./codegen.js";
import type { CompiledKernel, ElementwiseKernel, KernelSpec } from "./kernel-spec.js";
import { type KernelExports, MAX_PAGES } from "./loader.js";
import type { WasmHeap } from "./memory.js";
import { ThreadPool } from "./threads/pool.js";
import { type Call, SLOT_VALUES, exportTarget, flagCount } from "./threads/protocol.js";

export class TaskRunner {
  private pool: ThreadPool | undefined;
  /** Run-time kernels given to workers: call target and where the module bytes lie (address, length). */
  private readonly workerKernelIds = new Map<string, { id: number; bytes: [number, number] }>();
  /** The same kernels by call target, to run them on this thread. */
  private readonly workerKernelFns: ElementwiseKernel[] = [];

  constructor(
    private readonly kernelExports: KernelExports,
    private readonly heap: WasmHeap,
    private readonly memory: WebAssembly.Memory,
    /** Threads asked for, this one included. */
    private readonly threadCount: number,
  ) {}

  /** Starts the workers when more than one thread was asked for; their flags and slots come from the heap. */
  async start(kernels: WebAssembly.Module): Promise<void> {
    if (this.threadCount <= 1) return;
    const flags = this.heap.allocBytes(flagCount(this.threadCount) * 4);
    this.heap.f32.fill(0, flags.ptr >>> 2, (flags.ptr >>> 2) + flagCount(this.threadCount));
    const slots = this.heap.allocBytes(SLOT_VALUES * 8);
    this.pool = await ThreadPool.create(this.threadCount, this.memory, kernels, flags.ptr, slots.ptr);
  }

  /**
   * Threads the current kernel call has run work on so far: {@link beginKernel} sets it to 1, and each
   * threaded task raises it to the threads that ran at least one of its groups (a worker that woke too late
   * to find one does not count). What `lastKernelThreads()` reports.
   */
  threadsUsed = 1;

  /** Called as each backend kernel call begins. */
  beginKernel(): void {
    this.threadsUsed = 1;
  }

  /** Threads that work may be split over now: every one asked for while the pool runs, else 1. */
  get threads(): number {
    return this.pool ? this.threadCount : 1;
  }

  /** A run-time kernel as a thread task call (its bytes copied into memory once, for the workers). */
  kernelCall(kernel: CompiledKernel, spec: KernelSpec, args: number[]): Call {
    let entry = this.workerKernelIds.get(kernel.key);
    if (!entry) {
      const b = this.kernelBytes(spec);
      const { ptr } = this.heap.allocBytes(b.length);
      new Uint8Array(this.memory.buffer, ptr, b.length).set(b);
      entry = { id: this.workerKernelFns.length, bytes: [ptr, b.length] };
      this.workerKernelFns.push(kernel.fn);
      this.workerKernelIds.set(kernel.key, entry);
    }
    return { target: entry.id, args, bytes: entry.bytes };
  }

  private kernelBytes(spec: KernelSpec): Uint8Array {
    // re-emitting is cheap (well under a millisecond) and happens once per kernel used with threads
    const shared = typeof SharedArrayBuffer !== "undefined" && this.memory.buffer instanceof SharedArrayBuffer;
    return emitKernel(spec, { initial: 1, maximum: MAX_PAGES, shared });
  }

  /**
   * Runs every group once on whichever thread claims it first ({@link ThreadPool.runShared}); `scratch[t]` is
   * thread t's packing scratch (only for calls with a `scratchArg`). Without the pool, runs them here in order.
   */
  runShared(groups: readonly (readonly Call[])[], scratch?: readonly number[]): void {
    const pool = this.pool;
    if (!pool || groups.length <= 1) {
      for (const g of groups) this.runLocal(scratch ? g.map((c) => withScratch(c, scratch[0]!)) : g);
      return;
    }
    const ran = pool.runShared(groups, scratch ?? new Array<number>(pool.size).fill(0), (calls) => this.runLocal(calls));
    this.threadsUsed = Math.max(this.threadsUsed, ran);
  }

  /** Runs calls on this thread, in order. */
  runLocal(calls: readonly Call[]): void {
    for (const c of calls) {
      if (c.target === exportTarget("matmulRows")) this.kernelExports.matmulRows(...(c.args as Parameters<KernelExports["matmulRows"]>));
      else if (c.target === exportTarget("matmulPackB")) this.kernelExports.matmulPackB(...(c.args as Parameters<KernelExports["matmulPackB"]>));
      else if (c.target === exportTarget("adam")) this.kernelExports.adam(...(c.args as Parameters<KernelExports["adam"]>));
      else this.workerKernelFns[c.target]!(...c.args);
    }
  }

  /** Stops the workers; later work runs on this thread. */
  dispose(): void {
    this.pool?.dispose();
    this.pool = undefined;
  }
}

/** The call with its scratch argument, if it has one, set to `scratch`. */
function withScratch(c: Call, scratch: number): Call {
  return c.scratchArg === undefined ? c : { ...c, args: c.args.map((a, i) => (i === c.scratchArg ? scratch : a)) };
}
