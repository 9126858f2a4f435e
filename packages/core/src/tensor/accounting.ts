/** Live tensors, the bytes they hold, and the buffers held on each backend: process-wide. */
import type { Backend } from "../backend/contract.js";
import { sharedState } from "../process-state.js";

/**
 * A live buffer as the accounting sees it (implemented by `Storage` in ./storage.ts, which imports this
 * module: the accounting names only what it needs, so the two do not import each other).
 */
export interface HeldBuffer {
  /** Elements (float32, 4 bytes each). */
  readonly size: number;
  /** Moves the buffer to another backend (see Storage.moveTo). */
  moveTo(target: Backend): void;
}

/** What live tensors hold on one backend. */
export interface Holdings {
  readonly buffers: number;
  readonly bytes: number;
}

/** @internal counts that `memory()` reports, and the live buffers of each backend, to move them off a backend being removed. */
class Accounting {
  /** Tensors (and variables) not yet disposed. */
  liveTensors = 0;
  /** Bytes held by live buffers, on every backend. */
  bytes = 0;
  private readonly held = new Map<Backend, Set<HeldBuffer>>();

  /** The live buffers on `backend` (a set the storages add themselves to and remove themselves from). */
  buffersOn(backend: Backend): Set<HeldBuffer> {
    let set = this.held.get(backend);
    if (!set) this.held.set(backend, (set = new Set()));
    return set;
  }

  /** How many live buffers, and how many bytes, `backend` holds. */
  holdingsOn(backend: Backend): Holdings {
    const set = this.held.get(backend);
    let bytes = 0;
    for (const buffer of set ?? []) bytes += buffer.size * 4;
    return { buffers: set?.size ?? 0, bytes };
  }

  /** Forgets a backend being released (its buffers have been moved off it). */
  forget(backend: Backend): void {
    this.held.delete(backend);
  }
}

/** Process-wide: one count for every copy of the core loaded (see process-state.ts). */
export const accounting = sharedState("accounting", () => new Accounting());
