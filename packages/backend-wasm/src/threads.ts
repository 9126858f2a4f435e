// Worker threads over the shared WebAssembly memory. Each worker instantiates the same kernels module
// against the same memory and sleeps in Atomics.wait on its own flag; a task is a list of calls written
// into the worker's slot of a shared control block, and the caller runs its own share meanwhile, then waits
// for a done counter. A shared task instead lists groups of calls that every thread, the caller included,
// claims one at a time from an atomic counter, so a thread that runs slower (a busy core) simply takes
// fewer. Run-time kernels reach workers as bytes in shared memory, compiled there on first use, so a
// worker never needs to return to its event loop while the backend runs.

/** One kernel call: `target` < 0 is AS export −1−target of {@link EXPORTS}; ≥ 0 a run-time kernel id. */
export interface Call {
  readonly target: number;
  readonly args: readonly number[];
  /** For run-time kernels: where their module bytes lie in memory (byte address, length). */
  readonly bytes?: readonly [number, number];
  /** In a shared task: the index of the argument that becomes the executing thread's scratch address. */
  readonly scratchArg?: number;
}

/** AS exports callable from tasks, by index. */
export const EXPORTS = ["matmulRows", "matmulPackB"] as const;
export const exportTarget = (name: (typeof EXPORTS)[number]): number => -1 - EXPORTS.indexOf(name);

/** Float64 values per worker slot. */
export const SLOT_VALUES = 8192;

/** Int32 flags the pool needs in shared memory: workers' flags at [0, threads − 1), then the done, error and claim counters at threads, threads + 1, threads + 2. */
export const flagCount = (threads: number): number => threads + 3;

const WORKER_SOURCE = `
"use strict";
const isNode = typeof process !== "undefined" && !!(process.versions && process.versions.node);
let port;
// the eval'd source is CommonJS unless the parent runs with --input-type=module: getBuiltinModule works in both
if (isNode) port = (typeof require === "function" ? require("node:worker_threads") : process.getBuiltinModule("node:worker_threads")).parentPort;
const post = (m) => (isNode ? port.postMessage(m) : self.postMessage(m));
const EXPORTS = ${JSON.stringify(EXPORTS)};
function start(init) {
  const memory = init.memory;
  const kernels = new WebAssembly.Instance(init.kernels, { env: { memory } }).exports;
  const fns = EXPORTS.map((n) => kernels[n]);
  const compiled = new Map();
  const flags = new Int32Array(memory.buffer, init.flagsPtr, init.flagCount);
  const me = init.index;
  // runs the call encoded at buf[p] (target, count, scratch index, [bytes address, length,] args); returns
  // the next position
  const call = (buf, p, scratch) => {
    const target = buf[p++];
    const nargs = buf[p++];
    const scratchArg = buf[p++];
    const from = target < 0 ? p : p + 2;
    const args = Array.from(buf.subarray(from, p + nargs));
    if (scratchArg >= 0) args[scratchArg] = scratch;
    if (target < 0) {
      fns[-1 - target](...args);
    } else {
      let fn = compiled.get(target);
      if (!fn) {
        const bytes = new Uint8Array(memory.buffer, buf[p], buf[p + 1]).slice();
        fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.k;
        compiled.set(target, fn);
      }
      fn(...args);
    }
    return p + nargs;
  };
  post({ ready: true });
  let seq = 0;
  for (;;) {
    Atomics.wait(flags, me, seq);
    seq = Atomics.load(flags, me);
    if (seq < 0) break;
    let error = null;
    try {
      const slot = new Float64Array(memory.buffer, init.slotPtr + me * init.slotBytes, init.slotValues);
      if (slot[0] >= 0) {
        let p = 1;
        for (let c = 0, calls = slot[0]; c < calls; c++) p = call(slot, p, 0);
      } else {
        // a shared task in slot 0: [-1, groups, scratch per thread…, group offsets…, groups (count, calls…)…]
        const task = new Float64Array(memory.buffer, init.slotPtr, init.slotValues);
        const groups = task[1];
        const scratch = task[2 + me + 1];
        const table = 2 + init.threads;
        for (let g = Atomics.add(flags, init.claimIndex, 1); g < groups; g = Atomics.add(flags, init.claimIndex, 1)) {
          let p = task[table + g];
          for (let c = 0, calls = task[p++]; c < calls; c++) p = call(task, p, scratch);
        }
      }
    } catch (e) {
      error = String(e && e.stack || e);
    }
    if (error) {
      Atomics.add(flags, init.doneIndex + 1, 1);
      post({ error });
    }
    Atomics.add(flags, init.doneIndex, 1);
    Atomics.notify(flags, init.doneIndex);
  }
  if (isNode) process.exit(0); else self.close();
}
if (isNode) port.once("message", start); else self.onmessage = (e) => start(e.data);
`;

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
    private readonly flagsPtr: number,
    private readonly slotPtr: number,
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
      const init = {
        memory, kernels, flagsPtr, flagCount: flagCount(size), index: i, threads: size, doneIndex: size, claimIndex: size + 2,
        slotPtr, slotBytes: SLOT_VALUES * 8, slotValues: SLOT_VALUES,
      };
      if (NodeWorker) {
        const w = new NodeWorker(WORKER_SOURCE, { eval: true });
        ready.push(new Promise((resolve, reject) => {
          w.once("message", () => resolve());
          w.once("error", (e) => reject(e instanceof Error ? e : new Error(String(e))));
        }));
        w.on("message", (m) => {
          const err = (m as { error?: string }).error;
          if (err) errors.push(err);
        });
        w.postMessage(init);
        started.push(w);
        workers.push(w);
      } else {
        const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
        const w = new Worker(url);
        ready.push(new Promise((resolve, reject) => {
          w.addEventListener("message", () => resolve(), { once: true });
          w.addEventListener("error", (e) => reject(new Error(e.message)), { once: true });
        }));
        w.addEventListener("message", (e: MessageEvent<{ error?: string }>) => {
          if (e.data.error) errors.push(e.data.error);
        });
        w.postMessage(init);
        workers.push(w);
      }
    }
    await Promise.all(ready);
    // idle workers must not keep a Node process alive (only once ready: until then the start-up messages must)
    for (const w of started) w.unref();
    const pool = new ThreadPool(size, memory, workers, flagsPtr, slotPtr);
    Object.defineProperty(pool, "errors", { value: errors });
    return pool;
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
    const claim = this.size + 2;
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
      this.slot(w)[0] = -1;
      this.wake(w);
    }
    const mine = (c: Call): Call => (c.scratchArg === undefined ? c : { ...c, args: c.args.map((a, i) => (i === c.scratchArg ? scratch[0]! : a)) });
    for (let g = Atomics.add(flags, claim, 1); g < groups.length; g = Atomics.add(flags, claim, 1)) local(groups[g]!.map(mine));
    this.finish(this.workers.length);
  }

  private begin(): void {
    if (this.disposed) throw new Error("wasm backend: the thread pool was disposed");
    Atomics.store(this.flags, this.size, 0);
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
    const done = this.size;
    for (;;) {
      const got = Atomics.load(flags, done);
      if (got >= n) break;
      if (canBlock) Atomics.wait(flags, done, got, 50);
    }
    if (Atomics.load(flags, done + 1) > 0) {
      Atomics.store(flags, done + 1, 0);
      const errors = (this as unknown as { errors: string[] }).errors;
      throw new Error(`wasm backend: a worker failed${errors.length > 0 ? `: ${errors.splice(0).join("\n")}` : " (see the console)"}`);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.flags, w, -1);
      Atomics.notify(this.flags, w);
    }
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * Writes a call at slot[p] as the workers read it (target, count, scratch index or −1, [bytes address,
 * length,] args); returns the next position.
 */
function encodeCall(slot: Float64Array, p: number, c: Call): number {
  const extra = c.bytes ? 2 : 0;
  if (p + 3 + extra + c.args.length > SLOT_VALUES) throw new Error("wasm backend: a thread task does not fit its slot");
  slot[p++] = c.target;
  slot[p++] = c.args.length + extra;
  slot[p++] = c.scratchArg ?? -1;
  if (c.bytes) {
    slot[p++] = c.bytes[0];
    slot[p++] = c.bytes[1];
  }
  for (const a of c.args) slot[p++] = a;
  return p;
}

/** Node's main thread and workers may block in Atomics.wait; a browser's main thread may not. */
const canBlock = (() => {
  const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown };
  return !!g.process?.versions?.node || typeof g.document === "undefined";
})();
