import { ArgumentError, type BackendMemory, type DataId, OutOfMemoryError } from "@neurite/core";

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

/**
 * The most values one Float32Array can hold in this JavaScript engine, where the engine says (Node's
 * `buffer.constants.MAX_LENGTH`: 2^32 in Node 20, V8's typed-array length limit), else undefined: then only
 * the engine's own RangeError tells, and is converted.
 */
function typedArrayMaxLength(): number | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const buffer = proc?.getBuiltinModule?.("node:buffer") as { constants?: { MAX_LENGTH?: number } } | undefined;
  const max = buffer?.constants?.MAX_LENGTH;
  return typeof max === "number" && Number.isSafeInteger(max) && max > 0 ? max : undefined;
}

/** See {@link typedArrayMaxLength}. */
export const MAX_BUFFER_ELEMENTS: number | undefined = typedArrayMaxLength();

const fmtBytes = (bytes: number): string => (bytes >= 2 ** 30 ? `${+(bytes / 2 ** 30).toFixed(2)} GiB` : `${bytes} bytes`);

/**
 * A new Float32Array of `size` values, or an {@link OutOfMemoryError} naming the bytes and the limit: refused
 * before allocating where the engine's limit is known, and converted from the engine's RangeError otherwise
 * (a length beyond its limit, or a host that cannot give that much memory).
 */
function newArray(size: number): Float32Array {
  const bytes = size * 4;
  const limit = MAX_BUFFER_ELEMENTS;
  const fix = "use smaller shapes or batches, or dispose tensors you no longer need";
  if (limit !== undefined && size > limit) {
    throw new OutOfMemoryError(
      `cpu backend: out of memory: cannot allocate ${bytes} bytes (${fmtBytes(bytes)}, ${size} float32 values): one Float32Array ` +
        `holds at most ${limit} values (${limit * 4} bytes, this JavaScript engine's typed-array limit); ${fix}`,
      bytes, limit * 4, "cpu",
    );
  }
  try {
    return new Float32Array(size);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const limitBytes = limit === undefined ? bytes : limit * 4;
    throw new OutOfMemoryError(
      `cpu backend: out of memory: cannot allocate ${bytes} bytes (${fmtBytes(bytes)}, ${size} float32 values): the JavaScript ` +
        `engine refused (${e.message})${limit === undefined ? "" : `; its typed-array limit is ${limitBytes} bytes`}; ${fix}`,
      bytes, limitBytes, "cpu",
    );
  }
}

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
    if (!Number.isSafeInteger(size) || size < 0) throw new ArgumentError(`cpu backend: alloc size must be a non-negative integer number of float32 values, got ${size}`);
    return this.track(this.take(size) ?? newArray(size));
  }

  upload(values: Float32Array): CpuBuffer {
    const data = this.take(values.length) ?? newArray(values.length);
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
