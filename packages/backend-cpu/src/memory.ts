import type { BackendMemory, DataId } from "@neurite/core";

/** The CPU backend's buffer handle: a Float32Array the backend owns. */
export class CpuBuffer {
  /** @internal */
  constructor(
    /** The values; replaced by an empty array once freed. */
    public data: Float32Array,
    /** @internal */
    public freed = false,
  ) {}
}

const EMPTY = new Float32Array(0);

/** The Float32Array behind a handle; throws a clear error for foreign or freed handles. */
export function dataOf(id: DataId, what = "buffer"): Float32Array {
  if (!(id instanceof CpuBuffer)) throw new TypeError(`cpu backend: ${what} is not a buffer of the cpu backend`);
  if (id.freed) throw new Error(`cpu backend: ${what} was used after it was freed`);
  return id.data;
}

/** Pool limits: enough to recycle a training step's temporaries without holding much memory idle. */
const MAX_PER_SIZE = 8;
const MAX_POOLED_BYTES = 64 * 1024 * 1024;

/**
 * Buffers plus a small free-list pool keyed by size: a training loop frees and allocates the same sizes
 * every step, and reusing the arrays spares the garbage collector that churn.
 */
export class CpuMemory {
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private liveBytes = 0;
  private liveBuffers = 0;

  alloc(size: number): CpuBuffer {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`cpu backend: alloc size must be a non-negative integer, got ${size}`);
    return this.track(this.take(size) ?? new Float32Array(size));
  }

  upload(values: Float32Array): CpuBuffer {
    const data = this.take(values.length) ?? new Float32Array(values.length);
    data.set(values);
    return this.track(data);
  }

  read(id: DataId): Float32Array {
    return dataOf(id).slice();
  }

  free(id: DataId): void {
    if (!(id instanceof CpuBuffer)) throw new TypeError("cpu backend: free() got a buffer of another backend");
    if (id.freed) return; // idempotent, so counts stay right on a double free
    const data = id.data;
    id.freed = true;
    id.data = EMPTY;
    this.liveBytes -= data.byteLength;
    this.liveBuffers--;
    this.give(data);
  }

  memory(): BackendMemory {
    return { bytes: this.liveBytes, buffers: this.liveBuffers };
  }

  /** Bytes held idle in the pool (not counted by {@link memory}). */
  pooled(): number {
    return this.pooledBytes;
  }

  /** Drops every pooled array. */
  clearPool(): void {
    this.pool.clear();
    this.pooledBytes = 0;
  }

  private track(data: Float32Array): CpuBuffer {
    this.liveBytes += data.byteLength;
    this.liveBuffers++;
    return new CpuBuffer(data);
  }

  private take(size: number): Float32Array | undefined {
    const list = this.pool.get(size);
    const data = list?.pop();
    if (data) this.pooledBytes -= data.byteLength;
    return data;
  }

  private give(data: Float32Array): void {
    if (data.length === 0 || this.pooledBytes + data.byteLength > MAX_POOLED_BYTES) return;
    let list = this.pool.get(data.length);
    if (!list) this.pool.set(data.length, (list = []));
    if (list.length >= MAX_PER_SIZE) return;
    list.push(data);
    this.pooledBytes += data.byteLength;
  }
}
