// Worker threads over the shared WebAssembly memory. Each worker instantiates the same kernels module
// against the same memory and sleeps in Atomics.wait on its own flag; a task is a list of calls written
// into the worker's slot of a shared control block, and the caller runs its own share meanwhile, then waits
// for a done counter. A shared task instead lists groups of calls that every thread, the caller included,
// claims one at a time from an atomic counter, so a thread that runs slower (a busy core) simply takes
// fewer. Run-time kernels reach workers as bytes in shared memory, compiled there on first use, so a
// worker never needs to return to its event loop while the backend runs. The workers' code is worker.ts,
// bundled into a string at build time.
import {
  type Call, SHARED_TASK, SLOT_VALUES, STOP_WORKER, type WorkerInit, type WorkerMessage, claimFlag, doneFlag, encodeCall,
  flagCount,
} from "./protocol.js";
import workerSource from "./worker.js?worker-source";

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

interface NodeWorkerCtor {
  new (src: string, opts: { eval: true }): WorkerLike & { once(ev: string, cb: (m: unknown) => void): void; on(ev: string, cb: (m: unknown) => void): void; unref(): void };
}

/** Why threads are not available here, or undefined when they are. */
export function threadsUnavailableReason(): string | undefined {
  if (typeof SharedArrayBuffer === "undefined") {
    return "SharedArrayBuffer is not available (in a browser, serve the page cross-origin isolated: Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } }; Worker?: unknown };
  if (g.process?.versions?.node) return nodeWorkers() ? undefined : "node:worker_threads is not available";
  if (g.crossOriginIsolated === false) return "the page is not cross-origin isolated (set Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  if (typeof g.Worker !== "function") return "Web Workers are not available";
  return undefined;
}

function nodeWorkers(): NodeWorkerCtor | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.("node:worker_threads") as { Worker?: NodeWorkerCtor } | undefined;
  return mod?.Worker;
}

/** Worker threads sharing the backend's memory. `size` counts the calling thread. */
export class ThreadPool {
  private seq = 0;
  private readonly flags: Int32Array;
  private disposed = false;

  private constructor(
    readonly size: number,
    private readonly memory: WebAssembly.Memory,
    private readonly workers: WorkerLike[],
    flagsPtr: number,
    private readonly slotPtr: number,
    /** Errors the workers posted, reported by the next {@link finish} that sees a failed worker. */
    private readonly errors: string[],
  ) {
    this.flags = new Int32Array(memory.buffer, flagsPtr, flagCount(size));
  }

  /**
   * Starts size − 1 workers. `flagsPtr` must hold {@link flagCount}(size) int32s, `slotPtr` (size − 1)·SLOT_VALUES
   * float64s, both in the shared memory.
   */
  static async create(size: number, memory: WebAssembly.Memory, kernels: WebAssembly.Module, flagsPtr: number, slotPtr: number): Promise<ThreadPool> {
    const workers: WorkerLike[] = [];
    const ready: Promise<void>[] = [];
    const NodeWorker = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ? nodeWorkers() : undefined;
    const errors: string[] = [];
    const started: { unref(): void }[] = [];
    for (let i = 0; i < size - 1; i++) {
      const init: WorkerInit = {
        memory, kernels, flagsPtr, flagCount: flagCount(size), index: i, threads: size, doneIndex: doneFlag(size), claimIndex: claimFlag(size),
        slotPtr, slotBytes: SLOT_VALUES * 8, slotValues: SLOT_VALUES,
      };
      if (NodeWorker) {
        const w = new NodeWorker(workerSource, { eval: true });
        ready.push(new Promise((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", (e) => reject(e instanceof Error ? e : new Error(String(e))));
        }));
        w.on("message", (m) => {
          const err = (m as WorkerMessage).error;
          if (err) errors.push(err);
        });
        w.postMessage(init);
        started.push(w);
        workers.push(w);
      } else {
        const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
        const w = new Worker(url);
        ready.push(new Promise((resolve, reject) => {
          w.addEventListener("message", () => resolve(), { once: true });
          w.addEventListener("error", (e) => reject(new Error(e.message)), { once: true });
        }));
        w.addEventListener("message", (e: MessageEvent<WorkerMessage>) => {
          if (e.data.error) errors.push(e.data.error);
        });
        w.postMessage(init);
        workers.push(w);
      }
    }
    await Promise.all(ready);
    // idle workers must not keep a Node process alive (only once ready: until then the start-up messages must)
    for (const w of started) w.unref();
    return new ThreadPool(size, memory, workers, flagsPtr, slotPtr, errors);
  }

  /**
   * Runs parts[0] here and parts[i] on worker i − 1, and returns when all are done. `local` executes calls
   * on this thread.
   */
  run(parts: readonly (readonly Call[])[], local: (calls: readonly Call[]) => void): void {
    const n = parts.length - 1;
    if (n > this.workers.length) throw new Error(`wasm backend: ${parts.length} parts for ${this.size} threads`);
    this.begin();
    for (let w = 0; w < n; w++) {
      const slot = this.slot(w);
      const calls = parts[w + 1]!;
      slot[0] = calls.length;
      let p = 1;
      for (const c of calls) p = encodeCall(slot, p, c);
      this.wake(w);
    }
    local(parts[0]!);
    this.finish(n);
  }

  /**
   * Runs every group of calls once, on whichever thread claims it first (this one included), and returns
   * when all are done. Calls of a group run in order on one thread; a call's `scratchArg` argument becomes
   * `scratch[t]` on thread t (0 is this one). `local` executes calls here.
   */
  runShared(groups: readonly (readonly Call[])[], scratch: readonly number[], local: (calls: readonly Call[]) => void): void {
    if (scratch.length !== this.size) throw new Error(`wasm backend: ${scratch.length} scratch addresses for ${this.size} threads`);
    this.begin();
    const flags = this.flags;
    const claim = claimFlag(this.size);
    Atomics.store(flags, claim, 0);
    const task = this.slot(0);
    task[1] = groups.length;
    scratch.forEach((s, t) => (task[2 + t] = s));
    const table = 2 + this.size;
    let p = table + groups.length;
    groups.forEach((g, i) => {
      task[table + i] = p;
      if (p >= SLOT_VALUES) throw new Error("wasm backend: a thread task does not fit its slot");
      task[p++] = g.length;
      for (const c of g) p = encodeCall(task, p, c);
    });
    for (let w = 0; w < this.workers.length; w++) {
      this.slot(w)[0] = SHARED_TASK;
      this.wake(w);
    }
    const mine = (c: Call): Call => (c.scratchArg === undefined ? c : { ...c, args: c.args.map((a, i) => (i === c.scratchArg ? scratch[0]! : a)) });
    for (let g = Atomics.add(flags, claim, 1); g < groups.length; g = Atomics.add(flags, claim, 1)) local(groups[g]!.map(mine));
    this.finish(this.workers.length);
  }

  private begin(): void {
    if (this.disposed) throw new Error("wasm backend: the thread pool was disposed");
    Atomics.store(this.flags, doneFlag(this.size), 0);
    this.seq = (this.seq + 1) & 0x3fffffff;
  }

  private slot(w: number): Float64Array {
    return new Float64Array(this.memory.buffer, this.slotPtr + w * SLOT_VALUES * 8, SLOT_VALUES);
  }

  private wake(w: number): void {
    // views over the SharedArrayBuffer of before a growth stay valid: the flags lie below it
    Atomics.store(this.flags, w, this.seq);
    Atomics.notify(this.flags, w);
  }

  /** Waits until `n` workers report done: Atomics.wait where this thread may block, else a spin. */
  private finish(n: number): void {
    const flags = this.flags;
    const done = doneFlag(this.size);
    for (;;) {
      const got = Atomics.load(flags, done);
      if (got >= n) break;
      if (canBlock) Atomics.wait(flags, done, got, 50);
    }
    if (Atomics.load(flags, done + 1) > 0) {
      Atomics.store(flags, done + 1, 0);
      const errors = this.errors;
      throw new Error(`wasm backend: a worker failed${errors.length > 0 ? `: ${errors.splice(0).join("\n")}` : " (see the console)"}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.flags, w, STOP_WORKER);
      Atomics.notify(this.flags, w);
    }
    for (const w of this.workers) void w.terminate();
  }
}

/** Node's main thread and workers may block in Atomics.wait; a browser's main thread may not. */
const canBlock = (() => {
  const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown };
  return !!g.process?.versions?.node || typeof g.document === "undefined";
})();
