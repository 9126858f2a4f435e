// The body of every worker thread. The build bundles this file on its own into a self-contained classic
// script (tsup.config.ts), which the pool starts from a string: `eval` in Node's worker_threads, a Blob URL
// in browsers. So it runs unchanged in Node, in a browser, from the ESM and the CommonJS bundle, and after
// a bundler such as Vite has rebundled the package. It imports only ./protocol.js.
//
// Each worker instantiates the kernels against the shared memory, then sleeps in Atomics.wait on its own
// flag and runs what the pool writes into its slot; run-time kernels arrive as module bytes in shared
// memory and are compiled on first use, so the worker never returns to its event loop while it runs.
import { SHARED_TASK, STOP_WORKER, TASK_EXPORTS, type WorkerInit, type WorkerMessage } from "./protocol.js";

type Kernel = (...args: number[]) => void;

interface NodeProcess {
  readonly versions?: { readonly node?: string };
  getBuiltinModule(id: string): unknown;
  exit(code: number): void;
}

interface NodeParentPort {
  postMessage(message: WorkerMessage): void;
  once(event: "message", listener: (init: WorkerInit) => void): void;
}

/** The global scope of a Web Worker, as far as this file uses it. */
interface WebWorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: { data: WorkerInit }) => void) | null;
  close(): void;
}

const nodeProcess = (globalThis as { process?: NodeProcess }).process;
const isNode = !!nodeProcess?.versions?.node;
// getBuiltinModule works whether Node runs the eval'd source as CommonJS or as a module; the pool starts
// Node workers only where it exists
const parentPort = isNode ? (nodeProcess.getBuiltinModule("node:worker_threads") as { parentPort: NodeParentPort }).parentPort : undefined;
const webScope = globalThis as unknown as WebWorkerScope;
const post = (message: WorkerMessage): void => (parentPort ? parentPort.postMessage(message) : webScope.postMessage(message));

function start(init: WorkerInit): void {
  const memory = init.memory;
  const kernels = new WebAssembly.Instance(init.kernels, { env: { memory } }).exports as Record<string, Kernel>;
  const taskExports = TASK_EXPORTS.map((name) => kernels[name]!);
  const compiled = new Map<number, Kernel>();
  const flags = new Int32Array(memory.buffer, init.flagsPtr, init.flagCount);
  const me = init.index;
  // runs the call encoded at buf[p] (target, count, scratch index, [bytes address, length,] args); returns
  // the next position
  const call = (buf: Float64Array, p: number, scratch: number): number => {
    const target = buf[p++]!;
    const nargs = buf[p++]!;
    const scratchArg = buf[p++]!;
    const from = target < 0 ? p : p + 2;
    const args = Array.from(buf.subarray(from, p + nargs));
    if (scratchArg >= 0) args[scratchArg] = scratch;
    if (target < 0) {
      taskExports[-1 - target]!(...args);
    } else {
      let fn = compiled.get(target);
      if (!fn) {
        const bytes = new Uint8Array(memory.buffer, buf[p], buf[p + 1]).slice();
        fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.k as Kernel;
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
    if (seq === STOP_WORKER) break;
    let error: string | undefined;
    try {
      const slot = new Float64Array(memory.buffer, init.slotPtr + me * init.slotBytes, init.slotValues);
      if (slot[0] !== SHARED_TASK) {
        let p = 1;
        for (let c = 0, calls = slot[0]!; c < calls; c++) p = call(slot, p, 0);
      } else {
        // a shared task in slot 0: [-1, groups, scratch per thread…, group offsets…, groups (count, calls…)…]
        const task = new Float64Array(memory.buffer, init.slotPtr, init.slotValues);
        const groups = task[1]!;
        const scratch = task[2 + me + 1]!;
        const table = 2 + init.threads;
        for (let g = Atomics.add(flags, init.claimIndex, 1); g < groups; g = Atomics.add(flags, init.claimIndex, 1)) {
          let p = task[table + g]!;
          for (let c = 0, calls = task[p++]!; c < calls; c++) p = call(task, p, scratch);
        }
      }
    } catch (e) {
      error = String((e as { stack?: unknown } | null)?.stack || e);
    }
    if (error) {
      Atomics.add(flags, init.doneIndex + 1, 1);
      post({ error });
    }
    Atomics.add(flags, init.doneIndex, 1);
    Atomics.notify(flags, init.doneIndex);
  }
  if (isNode) nodeProcess.exit(0);
  else webScope.close();
}

if (parentPort) parentPort.once("message", start);
else webScope.onmessage = (event) => start(event.data);
