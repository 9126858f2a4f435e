// What the thread pool (pool.ts) and its workers (worker.ts) agree on: the int32 flags and float64 slots
// they share in the WebAssembly memory, how a call is written into a slot, and the messages they exchange.
// The worker is bundled on its own (see tsup.config.ts), so this module must import nothing.

/** One kernel call: `target` < 0 is AS export −1−target of {@link TASK_EXPORTS}; ≥ 0 a run-time kernel id. */
export interface Call {
  readonly target: number;
  readonly args: readonly number[];
  /** For run-time kernels: where their module bytes lie in memory (byte address, length). */
  readonly bytes?: readonly [number, number];
  /** In a shared task: the index of the argument that becomes the executing thread's scratch address. */
  readonly scratchArg?: number;
}

/** AS exports callable from tasks, by index. */
export const TASK_EXPORTS = ["matmulRows", "matmulPackB", "adam"] as const;
export type TaskExport = (typeof TASK_EXPORTS)[number];
export const exportTarget = (name: TaskExport): number => -1 - TASK_EXPORTS.indexOf(name);

/** Float64 values of the task slot (one, in shared memory, written by the caller and read by every worker). */
export const SLOT_VALUES = 8192;

/**
 * Int32 flags the pool needs in shared memory: workers' flags at [0, threads − 1) (each holds the sequence
 * number of the latest task, or {@link STOP_WORKER}), then, from index `threads` on: groups completed, workers
 * failed, the claim word and the workers that joined the current task.
 */
export const flagCount = (threads: number): number => threads + 4;
/** The flag that counts the current task's groups completed (the one after it counts failed workers). */
export const doneFlag = (threads: number): number => threads;
/** The claim word of the current task: {@link claimWord}(sequence, next group). */
export const claimFlag = (threads: number): number => threads + 2;
/** The flag that counts workers that ran at least one group of the current task. */
export const joinedFlag = (threads: number): number => threads + 3;
/**
 * How long a thread spins for what it waits for (a worker: the next task; the caller: the workers' groups)
 * before it sleeps in Atomics.wait. The ops of a training step come microseconds apart, and a wake-up from
 * Atomics.wait costs tens of microseconds, as much as a small op: without the spin, a second thread only paid
 * off for products of 2^23 multiply-adds and more.
 */
export const SPIN_MS = 1;

/** Spins until `done()` holds or {@link SPIN_MS} have passed; whether it holds. */
export function spinUntil(done: () => boolean): boolean {
  const until = performance.now() + SPIN_MS;
  for (let i = 1; ; i++) {
    if (done()) return true;
    // the clock is read once every 256 checks: a check is a few nanoseconds
    if ((i & 255) === 0 && performance.now() > until) return false;
  }
}
/** A worker's flag set to this stops it. */
export const STOP_WORKER = -1;

/**
 * A claim word holds the task's sequence number above {@link CLAIM_INDEX_BITS} bits of the next unclaimed group,
 * so that a worker that wakes late, after its task is over, can never claim a group of the next one: its
 * compare-exchange sees another sequence number. The sequence wraps at 2^21 (a stale worker would have to sleep
 * through 2 million tasks between two instructions to be fooled).
 */
export const CLAIM_INDEX_BITS = 10;
/** Groups per task are below this (the claim word's index field is full at it). */
export const CLAIM_CLOSED = (1 << CLAIM_INDEX_BITS) - 1;
/** Task sequence numbers run over [0, SEQUENCE_WRAP). */
export const SEQUENCE_WRAP = 1 << 21;
export const claimWord = (sequence: number, group: number): number => (sequence << CLAIM_INDEX_BITS) | group;
export const claimSequence = (word: number): number => word >>> CLAIM_INDEX_BITS;
export const claimGroup = (word: number): number => word & CLAIM_CLOSED;

/** What a worker is started with (its first message). */
export interface WorkerInit {
  readonly memory: WebAssembly.Memory;
  readonly kernels: WebAssembly.Module;
  readonly flagsPtr: number;
  readonly flagCount: number;
  /** The worker's own flag (and its scratch: the task's `scratch[index + 1]`). */
  readonly index: number;
  /** Threads in the pool, the caller included. */
  readonly threads: number;
  readonly doneIndex: number;
  readonly claimIndex: number;
  readonly joinedIndex: number;
  readonly slotPtr: number;
  readonly slotBytes: number;
  readonly slotValues: number;
}

/** What a worker posts back: once `ready`, then an `error` for each task that failed. */
export interface WorkerMessage {
  readonly ready?: true;
  readonly error?: string;
}

/**
 * Writes a call at slot[p] as the workers read it (target, count, scratch index or −1, [bytes address,
 * length,] args); returns the next position.
 */
export function encodeCall(slot: Float64Array, p: number, c: Call): number {
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
