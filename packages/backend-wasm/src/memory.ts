import { ArgumentError, type BackendMemory, type DataId, OutOfMemoryError } from "@neurite/core";

/** The wasm backend's buffer handle: a block of float32 values in the backend's WebAssembly memory. */
export class WasmBuffer {
  /** @internal */
  constructor(
    /** Byte address of the first value (16-byte aligned). */
    readonly ptr: number,
    /** Number of float32 values. */
    readonly size: number,
    /** @internal the block's size class in bytes */
    readonly block: number,
    /** @internal */
    public freed = false,
  ) {}
}

/** Bytes of a WebAssembly page. */
export const PAGE = 65536;

/**
 * Pages the backend's memory may grow to: 2 GiB, half of wasm32's 4 GiB address space, so that every byte
 * address and every offset inside a buffer stays below 2^31. The AssemblyScript kernels and the run-time
 * compiled kernels take addresses, byte strides and counts as i32; with this maximum none can wrap.
 */
export const MAX_PAGES = 32768;

/** `bytes` rounded up to a multiple of 16, in exact arithmetic (no 32-bit bit operations: sizes reach 2^53). */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Size class of a request: multiples of 16 bytes up to 4 KiB, then eight classes per doubling (at most
 * 12.5% slack), so that a training loop's recurring sizes land in the same free lists step after step.
 * Exact for every safe integer: a class is never smaller than the request.
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, align16(bytes));
  if (b <= 4096) return b;
  // the largest power of two ≤ b; Math.log2 can round up just below a power of two, so correct it
  let e = 2 ** Math.floor(Math.log2(b));
  if (e > b) e /= 2;
  const step = e / 8;
  return Math.ceil(b / step) * step;
}

const fmtBytes = (bytes: number): string =>
  bytes >= 2 ** 30 ? `${+(bytes / 2 ** 30).toFixed(2)} GiB` : bytes >= 2 ** 20 ? `${+(bytes / 2 ** 20).toFixed(2)} MiB` : `${bytes} B`;

/** Throws a clear error for foreign or freed handles. */
export function bufferOf(id: DataId, what = "buffer"): WasmBuffer {
  if (!(id instanceof WasmBuffer)) throw new TypeError(`wasm backend: ${what} is not a buffer of the wasm backend`);
  if (id.freed) throw new Error(`wasm backend: ${what} was used after it was freed`);
  return id;
}

/**
 * A bump allocator over the WebAssembly memory with one free list per size class: freed blocks are reused
 * by later requests of the same class and never returned to the bump region, so memory stays flat once a
 * workload's sizes have been seen. Growing the memory re-creates the typed-array views.
 */
export class WasmHeap {
  private top: number;
  /** Where the first block starts: the allocator never hands out memory below it. */
  private readonly base: number;
  private readonly freeLists = new Map<number, number[]>();
  private liveBytes = 0;
  private liveBuffers = 0;
  private pooledBytes = 0;
  private f32View: Float32Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    heapBase: number,
    private readonly maxPages: number,
  ) {
    this.top = this.base = align16(heapBase);
    this.f32View = new Float32Array(memory.buffer);
  }

  /** A Float32Array over the whole memory, current after any growth. */
  get f32(): Float32Array {
    // a grown memory has a new buffer (the old one is detached, or shorter when shared)
    if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** The most bytes the memory can ever hold (its maximum); one buffer can have at most this less the heap base. */
  get limitBytes(): number {
    return this.maxPages * PAGE;
  }

  /** The largest single buffer this heap could ever hand out (an empty heap, fully grown). */
  get maxBlockBytes(): number {
    return this.limitBytes - this.base;
  }

  /**
   * Raw block of at least `bytes` bytes (for scratch); 16-byte aligned. A request the memory cannot hold
   * throws an {@link OutOfMemoryError} before anything changes: the bump pointer, the free lists and the
   * counters stay as they were.
   */
  allocBytes(bytes: number): { ptr: number; block: number } {
    if (!Number.isInteger(bytes) || bytes < 0) throw new ArgumentError(`wasm backend: a byte count must be a non-negative integer, got ${bytes}`);
    // refused before any size arithmetic: what is left is below 2^31 and every sum below stays exact
    if (bytes > this.maxBlockBytes) throw this.outOfMemory(bytes);
    let block = sizeClass(bytes);
    const list = this.freeLists.get(block);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= block;
      return { ptr: reused, block };
    }
    const ptr = this.top;
    const limit = this.limitBytes;
    // near the maximum, a block of the exact (16-aligned) size may fit where its size class does not
    if (ptr + block > limit) block = Math.max(16, align16(bytes));
    const end = ptr + block;
    if (end > limit) return this.splitFreeBlock(block) ?? this.fail(bytes);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      // grow by at least a quarter of the current size so that a growing workload grows rarely
      const pages = Math.min(Math.max(needed, Math.ceil(current / 4)), this.maxPages - current);
      try {
        this.memory.grow(pages);
      } catch {
        // the host may refuse to commit that much memory: then try exactly what this request needs
        try {
          this.memory.grow(needed);
        } catch {
          return this.splitFreeBlock(block) ?? this.fail(bytes, `the host refused to grow the memory from ${fmtBytes(have)} to ${fmtBytes(have + needed * PAGE)}`);
        }
      }
    }
    this.top = end;
    return { ptr, block };
  }

  /**
   * The last resort once the memory is at its maximum: the smallest free block of another size class that
   * can hold `block` bytes, split so that the rest stays free. Undefined when none is large enough.
   */
  private splitFreeBlock(block: number): { ptr: number; block: number } | undefined {
    let best: number | undefined;
    for (const [size, list] of this.freeLists) {
      if (list.length > 0 && size >= block && (best === undefined || size < best)) best = size;
    }
    if (best === undefined) return undefined;
    const ptr = this.freeLists.get(best)!.pop()!;
    this.pooledBytes -= best;
    if (best > block) this.freeBytes(ptr + block, best - block);
    return { ptr, block };
  }

  private fail(bytes: number, why?: string): never {
    throw this.outOfMemory(bytes, why);
  }

  private outOfMemory(bytes: number, why?: string): OutOfMemoryError {
    const limit = this.limitBytes;
    const inUse = this.top - this.base - this.pooledBytes;
    const reason = why ?? (bytes > this.maxBlockBytes
      ? `more than this backend's WebAssembly memory can ever hold: its maximum is ${limit} bytes (${fmtBytes(limit)}; wasm32 addresses at most 4 GiB, and this backend keeps every address below 2 GiB)`
      : `its WebAssembly memory is at most ${limit} bytes (${fmtBytes(limit)}), of which ${fmtBytes(inUse)} are in use (live buffers and scratch) and ${fmtBytes(this.pooledBytes)} wait in free lists, none of them large enough`);
    return new OutOfMemoryError(
      `wasm backend: out of memory: cannot allocate ${bytes} bytes (${fmtBytes(bytes)}): ${reason}. ` +
        "Dispose tensors you no longer need (scope(), dispose()), use smaller batches or shapes, or use @neurite/backend-cpu for tensors this large",
      bytes, limit, "wasm",
    );
  }

  freeBytes(ptr: number, block: number): void {
    let list = this.freeLists.get(block);
    if (!list) this.freeLists.set(block, (list = []));
    list.push(ptr);
    this.pooledBytes += block;
  }

  alloc(size: number): WasmBuffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new ArgumentError(`wasm backend: alloc size must be a non-negative integer number of float32 values, got ${size}`);
    // 4·size is exact for every safe integer size (at most 2^55, a power-of-two multiple)
    const { ptr, block } = this.allocBytes(size * 4);
    this.liveBytes += size * 4;
    this.liveBuffers++;
    return new WasmBuffer(ptr, size, block);
  }

  upload(values: Float32Array): WasmBuffer {
    const b = this.alloc(values.length);
    this.f32.set(values, b.ptr >>> 2);
    return b;
  }

  read(id: DataId): Float32Array {
    const b = bufferOf(id);
    const start = b.ptr >>> 2;
    // slice copies out of (possibly shared) wasm memory into a plain ArrayBuffer
    return this.f32.slice(start, start + b.size);
  }

  free(id: DataId): void {
    if (!(id instanceof WasmBuffer)) throw new TypeError("wasm backend: free() got a buffer of another backend");
    if (id.freed) return; // idempotent, so counts stay right on a double free
    id.freed = true;
    this.liveBytes -= id.size * 4;
    this.liveBuffers--;
    this.freeBytes(id.ptr, id.block);
  }

  usage(): BackendMemory {
    return { bytes: this.liveBytes, buffers: this.liveBuffers };
  }

  /** Bytes of the WebAssembly memory, bytes handed out by the bump pointer, and bytes waiting in free lists. */
  stats(): { memoryBytes: number; heapTop: number; pooledBytes: number } {
    return { memoryBytes: this.memory.buffer.byteLength, heapTop: this.top, pooledBytes: this.pooledBytes };
  }
}
