/** Backend buffers as tensors hold them: refcounted, accounted per backend, movable between backends. */
import type { Backend, DataId } from "../backend/contract.js";
import { OutOfMemoryError } from "../errors.js";
import { type HeldBuffer, accounting } from "./accounting.js";

/**
 * A refcounted backend buffer. Tensors that share data (reshape) share a Storage; the buffer is freed
 * when the last of them is disposed (or garbage-collected, through the FinalizationRegistry safety net).
 */
export class Storage implements HeldBuffer {
  refs = 1;
  /** Asynchronous reads in flight: a buffer freed (moved away, released) while one runs is freed when they end. */
  private reads = 0;
  private readonly freeAfterReads: (() => void)[] = [];
  constructor(
    /** The backend that holds the buffer; changes when the buffer is moved ({@link moveTo}). */
    public backend: Backend,
    public id: DataId,
    readonly size: number,
  ) {
    accounting.bytes += size * 4;
    accounting.buffersOn(backend).add(this);
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) {
      accounting.bytes -= this.size * 4;
      accounting.buffersOn(this.backend).delete(this);
      this.freeWhenUnread(this.backend, this.id);
    }
  }
  /** The values, read asynchronously from wherever the buffer is when the read starts. */
  async read(): Promise<Float32Array> {
    const [b, id] = [this.backend, this.id];
    this.reads++;
    try {
      return await (b.readAsync ? b.readAsync(id) : b.read(id));
    } finally {
      if (--this.reads === 0) for (const free of this.freeAfterReads.splice(0)) free();
    }
  }
  private freeWhenUnread(backend: Backend, id: DataId): void {
    if (this.reads > 0) this.freeAfterReads.push(() => backend.free(id));
    else backend.free(id);
  }
  /**
   * Moves the buffer to `target`: a copy is uploaded there, then the old buffer is freed. Every tensor that
   * shares this storage follows, so tensor objects (variables, weights, optimizer moments) stay valid and no
   * copy is left for anyone to dispose. Nothing changes if the read or the upload throws.
   */
  moveTo(target: Backend): void {
    if (this.backend === target) return;
    const id = target.upload(this.backend.read(this.id));
    const [from, oldId] = [this.backend, this.id];
    accounting.buffersOn(from).delete(this);
    accounting.buffersOn(target).add(this);
    this.backend = target;
    this.id = id;
    this.freeWhenUnread(from, oldId);
  }
}

/**
 * @internal Refuses a tensor of `elements` values that is larger than one buffer of `backend` can ever be
 * ({@link Backend.maxBufferBytes}), before the caller computes its values on the host: a random initialiser
 * of a huge shape must not fill gigabytes of JavaScript memory only to be refused by the upload.
 */
export function checkBufferFits(backend: Backend, elements: number, op: string): void {
  const limit = backend.maxBufferBytes;
  const bytes = elements * 4;
  if (limit !== undefined && bytes > limit) {
    throw new OutOfMemoryError(
      `${op}: ${elements} float32 values need ${bytes} bytes, more than the ${limit} bytes one buffer of the ` +
        `${backend.name} backend can hold; use a smaller shape (or a backend with more memory)`,
      bytes, limit, backend.name,
    );
  }
}

