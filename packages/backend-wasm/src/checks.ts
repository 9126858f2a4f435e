import type { WasmBuffer } from "./memory.js";

/** Throws when a buffer holds fewer values than a kernel needs. */
export function checkSize(kernel: string, what: string, buf: WasmBuffer, need: number): void {
  if (buf.size < need) throw new RangeError(`wasm ${kernel}: ${what} holds ${buf.size} values, fewer than the ${need} needed`);
}
