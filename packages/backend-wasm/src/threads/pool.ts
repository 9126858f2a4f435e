// Worker threads over the shared WebAssembly memory. Each worker instantiates the same kernels module
// against the same memory and sleeps in Atomics.wait on its own flag. A task lists groups of calls in one
// shared slot; every thread, the caller included, claims groups one at a time from an atomic claim word, so
// a thread that runs slower (a busy core) simply takes fewer, and the caller waits for the groups, never for
// a worker that has not woken yet. Run-time kernels reach workers as bytes in shared memory, compiled there on first use, so a
// worker never needs to return to its event loop while the backend runs. The workers' code is worker.ts,
// bundled into a string at build time.
import {
  CLAIM_CLOSED, type Call, SEQUENCE_WRAP, SLOT_VALUES, STOP_WORKER, type WorkerInit, type WorkerMessage, claimFlag, claimGroup,
  claimWord, doneFlag, encodeCall, flagCount, joinedFlag, spinUntil,
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
  private sequence = 0;
  private readonly flags: Int32Array;
  /** The task slot every thread reads (views over the memory of before a growth stay valid: it lies below). */
  private readonly task: Float64Array;
  private disposed = false;

  private constructor(
    readonly size: number,
    private readonly memory: WebAssembly.Memory,
    private readonly workers: WorkerLike[],
    flagsPtr: number,
    slotPtr: number,
    /** Errors the workers posted, reported by the next task that sees a failed worker. */
    private readonly errors: string[],
  ) {
    this.flags = new Int32Array(memory.buffer, flagsPtr, flagCount(size));
    this.task = new Float64Array(memory.buffer, slotPtr, SLOT_VALUES);
  }

  /**
   * Starts size − 1 workers. `flagsPtr` must hold {@link flagCount}(size) int32s, `slotPtr` SLOT_VALUES float64s
   * (the task slot), both in the shared memory.
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
        joinedIndex: joinedFlag(size),
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
   * Runs every group of calls once, on whichever thread claims it first (this one included), and returns
   * when all are done, with the number of threads that ran at least one group. Calls of a group run in order
   * on one thread; a call's `scratchArg` argument becomes `scratch[t]` on thread t (0 is this one). `local`
   * executes calls here.
   *
   * Only groups are waited for, never a worker: one that wakes late (its core busy with other work) finds
   * every group claimed and goes back to sleep, so a task takes at most about as long as this thread alone
   * needs for it, plus the wake-up calls.
   */
  runShared(groups: readonly (readonly Call[])[], scratch: readonly number[], local: (calls: readonly Call[]) => void): number {
    if (this.disposed) throw new Error("wasm backend: the thread pool was disposed");
    if (scratch.length !== this.size) throw new Error(`wasm backend: ${scratch.length} scratch addresses for ${this.size} threads`);
    if (groups.length >= CLAIM_CLOSED) throw new Error(`wasm backend: ${groups.length} groups do not fit one thread task`);
    const flags = this.flags;
    const claim = claimFlag(this.size), done = doneFlag(this.size), joined = joinedFlag(this.size);
    const sequence = (this.sequence = (this.sequence + 1) % SEQUENCE_WRAP);
    // close the previous task's claims before its slot is overwritten, then open this one's
    Atomics.store(flags, claim, claimWord(sequence, CLAIM_CLOSED));
    Atomics.store(flags, done, 0);
    Atomics.store(flags, joined, 0);
    const task = this.task;
    task[0] = groups.length;
    scratch.forEach((s, t) => (task[1 + t] = s));
    const table = 1 + this.size;
    let p = table + groups.length;
    groups.forEach((g, i) => {
      task[table + i] = p;
      if (p >= SLOT_VALUES) throw new Error("wasm backend: a thread task does not fit its slot");
      task[p++] = g.length;
      for (const c of g) p = encodeCall(task, p, c);
    });
    Atomics.store(flags, claim, claimWord(sequence, 0));
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(flags, w, sequence);
      Atomics.notify(flags, w);
    }
    const mine = (c: Call): Call => (c.scratchArg === undefined ? c : { ...c, args: c.args.map((a, i) => (i === c.scratchArg ? scratch[0]! : a)) });
    let ranHere = 0;
    let waitFor = groups.length;
    try {
      for (;;) {
        const word = Atomics.load(flags, claim);
        const group = claimGroup(word);
        if (group >= groups.length) break;
        if (Atomics.compareExchange(flags, claim, word, word + 1) !== word) continue;
        ranHere = 1;
        try {
          local(groups[group]!.map(mine));
        } finally {
          Atomics.add(flags, done, 1);
        }
      }
    } catch (e) {
      // no new claims; the groups workers hold still read the slot, so wait for them before the next task
      waitFor = Math.min(groups.length, claimGroup(Atomics.exchange(flags, claim, claimWord(sequence, CLAIM_CLOSED))));
      this.awaitDone(waitFor);
      throw e;
    }
    this.awaitDone(waitFor);
    if (Atomics.load(flags, done + 1) > 0) {
      Atomics.store(flags, done + 1, 0);
      const errors = this.errors;
      throw new Error(`wasm backend: a worker failed${errors.length > 0 ? `: ${errors.splice(0).join("\n")}` : " (see the console)"}`);
    }
    return ranHere + Atomics.load(flags, joined);
  }

  /** Waits until `groups` groups of the current task are done: a spin of SPIN_MS, then Atomics.wait where this thread may block. */
  private awaitDone(groups: number): void {
    const flags = this.flags;
    const done = doneFlag(this.size);
    if (spinUntil(() => Atomics.load(flags, done) >= groups)) return;
    for (;;) {
      const got = Atomics.load(flags, done);
      if (got >= groups) return;
      if (canBlock) Atomics.wait(flags, done, got, 50);
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
