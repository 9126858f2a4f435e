// The body of every worker thread. The build bundles this file on its own into a self-contained classic
// script (tsup.config.ts), which the pool starts from a string: `eval` in Node's worker_threads, a Blob URL
// in browsers. So it runs unchanged in Node, in a browser, from the ESM and the CommonJS bundle, and after
// a bundler such as Vite has rebundled the package. It imports only ./protocol.js.
//
// Each worker instantiates the kernels against the shared memory, then waits on its own flag (a short spin,
// then Atomics.wait); woken, it claims groups of the task in the shared slot until none is left; run-time
// kernels arrive as module bytes in shared memory and are compiled on first use, so the worker never returns
// to its event loop while it runs.
import { STOP_WORKER, TASK_EXPORTS, type WorkerInit, type WorkerMessage, claimGroup, claimSequence, spinUntil } from "./protocol.js";

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
  const task = new Float64Array(memory.buffer, init.slotPtr, init.slotValues);
  let seen = 0;
  for (;;) {
    const sequence = nextTask(flags, me, seen);
    if (sequence === STOP_WORKER) break;
    seen = sequence;
    // the task: [groups, scratch per thread…, group offsets…, groups (count, calls…)…]. Claim groups while the
    // claim word holds this task's sequence number: a worker that wakes after its task is over (the caller ran
    // every group) finds another sequence number and goes back to sleep without touching anything.
    let joined = false;
    for (;;) {
      const word = Atomics.load(flags, init.claimIndex);
      if (claimSequence(word) !== sequence) break;
      const group = claimGroup(word);
      const groups = task[0]!;
      if (group >= groups) break;
      if (Atomics.compareExchange(flags, init.claimIndex, word, word + 1) !== word) continue;
      if (!joined) {
        joined = true;
        Atomics.add(flags, init.joinedIndex, 1);
      }
      try {
        let p = task[1 + init.threads + group]!;
        const scratch = task[1 + me + 1]!;
        for (let c = 0, calls = task[p++]!; c < calls; c++) p = call(task, p, scratch);
      } catch (e) {
        Atomics.add(flags, init.doneIndex + 1, 1);
        post({ error: String((e as { stack?: unknown } | null)?.stack || e) });
      }
      if (Atomics.add(flags, init.doneIndex, 1) + 1 === groups) Atomics.notify(flags, init.doneIndex);
    }
  }
  if (isNode) nodeProcess.exit(0);
  else webScope.close();
}

/** The sequence number of the next task (or STOP_WORKER) once flags[me] differs from `seen`: a spin, then sleep. */
function nextTask(flags: Int32Array, me: number, seen: number): number {
  if (!spinUntil(() => Atomics.load(flags, me) !== seen)) Atomics.wait(flags, me, seen);
  return Atomics.load(flags, me);
}

if (parentPort) parentPort.once("message", start);
else webScope.onmessage = (event) => start(event.data);
