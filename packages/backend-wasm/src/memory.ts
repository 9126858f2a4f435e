import type { BackendMemory, DataId } from "@neurite/core";

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

const PAGE = 65536;

/**
 * Size class of a request: multiples of 16 bytes up to 4 KiB, then eight classes per doubling (at most
 * 12.5% slack), so that a training loop's recurring sizes land in the same free lists step after step.
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, (bytes + 15) & ~15);
  if (b <= 4096) return b;
  const e = 2 ** Math.floor(Math.log2(b));
  const step = e / 8;
  return Math.ceil(b / step) * step;
}

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
    this.top = (heapBase + 15) & ~15;
    this.f32View = new Float32Array(memory.buffer);
  }

  /** A Float32Array over the whole memory, current after any growth. */
  get f32(): Float32Array {
    // a grown memory has a new buffer (the old one is detached, or shorter when shared)
    if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.f32View = new Float32Array(this.memory.buffer);
    return this.f32View;
  }

  /** Raw block of at least `bytes` bytes (for scratch); 16-byte aligned. */
  allocBytes(bytes: number): { ptr: number; block: number } {
    const block = sizeClass(bytes);
    const list = this.freeLists.get(block);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= block;
      return { ptr: reused, block };
    }
    const ptr = this.top;
    const end = ptr + block;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      // grow by at least a quarter of the current size so that a growing workload grows rarely
      const pages = Math.min(Math.max(needed, Math.ceil(current / 4)), this.maxPages - current);
      if (pages < needed) {
        throw new RangeError(
          `wasm backend: out of memory allocating ${bytes} bytes (${have} in use of at most ${this.maxPages * PAGE}); ` +
            "dispose tensors you no longer need (scope(), dispose()) or use smaller batches",
        );
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return { ptr, block };
  }

  freeBytes(ptr: number, block: number): void {
    let list = this.freeLists.get(block);
    if (!list) this.freeLists.set(block, (list = []));
    list.push(ptr);
    this.pooledBytes += block;
  }

  alloc(size: number): WasmBuffer {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`wasm backend: alloc size must be a non-negative integer, got ${size}`);
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
