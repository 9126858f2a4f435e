// Worker threads over the shared WebAssembly memory. Each worker instantiates the same kernels module
// against the same memory and sleeps in Atomics.wait on its own flag; a task is a list of calls written
// into the worker's slot of a shared control block, and the caller runs its own share meanwhile, then waits
// for a done counter. Run-time kernels reach workers as bytes in shared memory, compiled there on first use,
// so a worker never needs to return to its event loop while the backend runs.

/** One kernel call: `target` < 0 is AS export −1−target of {@link EXPORTS}; ≥ 0 a run-time kernel id. */
export interface Call {
  readonly target: number;
  readonly args: readonly number[];
  /** For run-time kernels: where their module bytes lie in memory (byte address, length). */
  readonly bytes?: readonly [number, number];
}

/** AS exports callable from tasks, by index. */
export const EXPORTS = ["matmulRows"] as const;
export const exportTarget = (name: (typeof EXPORTS)[number]): number => -1 - EXPORTS.indexOf(name);

/** Float64 values per worker slot. */
export const SLOT_VALUES = 8192;

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
  post({ ready: true });
  let seq = 0;
  for (;;) {
    Atomics.wait(flags, me, seq);
    seq = Atomics.load(flags, me);
    if (seq < 0) break;
    let error = null;
    try {
      const slot = new Float64Array(memory.buffer, init.slotPtr + me * init.slotBytes, init.slotValues);
      let p = 1;
      const calls = slot[0];
      for (let c = 0; c < calls; c++) {
        const target = slot[p++];
        const nargs = slot[p++];
        if (target < 0) {
          const args = Array.from(slot.subarray(p, p + nargs));
          fns[-1 - target](...args);
        } else {
          let fn = compiled.get(target);
          if (!fn) {
            const bytes = new Uint8Array(memory.buffer, slot[p], slot[p + 1]).slice();
            fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.k;
            compiled.set(target, fn);
          }
          const args = Array.from(slot.subarray(p + 2, p + nargs));
          fn(...args);
        }
        p += nargs;
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
    this.flags = new Int32Array(memory.buffer, flagsPtr, size + 2);
  }

  /**
   * Starts size − 1 workers. `flagsPtr` must hold size + 2 int32s, `slotPtr` (size − 1)·SLOT_VALUES float64s,
   * both in the shared memory.
   */
  static async create(size: number, memory: WebAssembly.Memory, kernels: WebAssembly.Module, flagsPtr: number, slotPtr: number): Promise<ThreadPool> {
    const workers: WorkerLike[] = [];
    const ready: Promise<void>[] = [];
    const NodeWorker = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ? nodeWorkers() : undefined;
    const errors: string[] = [];
    const started: { unref(): void }[] = [];
    for (let i = 0; i < size - 1; i++) {
      const init = {
        memory, kernels, flagsPtr, flagCount: size + 2, index: i, doneIndex: size, slotPtr,
        slotBytes: SLOT_VALUES * 8, slotValues: SLOT_VALUES,
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
    if (this.disposed) throw new Error("wasm backend: the thread pool was disposed");
    const n = parts.length - 1;
    if (n > this.workers.length) throw new Error(`wasm backend: ${parts.length} parts for ${this.size} threads`);
    // views over the SharedArrayBuffer of before a growth stay valid: the flags lie below it
    const flags = this.flags;
    const done = this.size;
    Atomics.store(flags, done, 0);
    this.seq = (this.seq + 1) & 0x3fffffff;
    for (let w = 0; w < n; w++) {
      const slot = new Float64Array(this.memory.buffer, this.slotPtr + w * SLOT_VALUES * 8, SLOT_VALUES);
      const calls = parts[w + 1]!;
      let p = 1;
      slot[0] = calls.length;
      for (const c of calls) {
        const extra = c.bytes ? 2 : 0;
        if (p + 2 + extra + c.args.length > SLOT_VALUES) throw new Error("wasm backend: a thread task does not fit its slot");
        slot[p++] = c.target;
        slot[p++] = c.args.length + extra;
        if (c.bytes) {
          slot[p++] = c.bytes[0];
          slot[p++] = c.bytes[1];
        }
        for (const a of c.args) slot[p++] = a;
      }
      Atomics.store(flags, w, this.seq);
      Atomics.notify(flags, w);
    }
    local(parts[0]!);
    // wait for the workers: Atomics.wait where the platform allows it on this thread, else spin
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

/** Node's main thread and workers may block in Atomics.wait; a browser's main thread may not. */
const canBlock = (() => {
  const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown };
  return !!g.process?.versions?.node || typeof g.document === "undefined";
})();
