// The allocator's size class of a request, observed through the public heap statistics: allocate, free,
// and see how many bytes the free lists gained.
import type { WasmBackend } from "../dist/index.js";
import { backends } from "./helpers.js";

const { wasm } = await backends();

/** The block size the allocator uses for a request of `bytes`: what lands in the free list after a free. */
export function sizeClassOf(bytes: number): number {
  const b: WasmBackend = wasm;
  const id = b.alloc(Math.ceil(bytes / 4));
  const before = b.heapStats().pooledBytes;
  b.free(id);
  return b.heapStats().pooledBytes - before;
}
