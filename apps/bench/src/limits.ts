/**
 * Memory-bandwidth limits measured in the same process as the library: a plain copy of 2^22 float32
 * values, once with `Float32Array.prototype.set` (what JS backends are bound by) and once inside a
 * WebAssembly memory with the bulk-memory `memory.copy` instruction (what WASM backends are bound by). An
 * elementwise op reads and writes as many bytes as a copy, so a copy's speed is its ceiling.
 */
import { type RepeatPolicy, type Timing, measure } from "./harness.js";

/** Unsigned LEB128, as wasm encodes sizes and counts. */
export function leb128(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`leb128: needs a non-negative integer, got ${n}`);
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

const section = (id: number, body: number[]): number[] => [id, ...leb128(body.length), ...body];
const name = (s: string): number[] => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * A hand-assembled module: `(memory (export "memory") pages)` and
 * `(func (export "copy") (param $dst i32) (param $src i32) (param $bytes i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))`.
 */
export function copyModuleBytes(pages: number): Uint8Array<ArrayBuffer> {
  const i32 = 0x7f;
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, [1, 0x60, 3, i32, i32, i32, 0]), // type 0: (i32, i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, ...leb128(pages)]), // one memory, minimum `pages`, no maximum
    ...section(7, [2, ...name("memory"), 0x02, 0, ...name("copy"), 0x00, 0]),
    // body: no locals; local.get 0, 1, 2; memory.copy (0xfc 10) from memory 0 to memory 0; end
    ...section(10, [1, ...leb128(12), 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfc, 10, 0, 0, 0x0b]),
  ];
  return new Uint8Array(bytes);
}

/** The copy module, instantiated with room for two arrays of `elements` float32 values. */
export function wasmCopier(elements: number): { memory: WebAssembly.Memory; copy: (dst: number, src: number, bytes: number) => void } {
  const pages = Math.ceil((2 * elements * 4) / 65536);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(copyModuleBytes(pages)));
  const ex = instance.exports as { memory: WebAssembly.Memory; copy: (dst: number, src: number, bytes: number) => void };
  return { memory: ex.memory, copy: ex.copy };
}

export interface CopyLimit {
  readonly case: "copy Float32Array.set" | "copy wasm memory.copy";
  readonly elements: number;
  readonly timing: Timing;
  /** Elements copied per second. */
  readonly elementsPerSecond: number;
  /** Bytes read plus bytes written per second. */
  readonly bytesPerSecond: number;
}

function limit(kind: CopyLimit["case"], elements: number, timing: Timing): CopyLimit {
  const s = timing.medianMs / 1000;
  return { case: kind, elements, timing, elementsPerSecond: elements / s, bytesPerSecond: (8 * elements) / s };
}

/** Copy speed of `Float32Array.set` over `elements` values. */
export function measureJsCopy(elements: number, policy: RepeatPolicy): CopyLimit {
  const src = new Float32Array(elements).map((_, i) => i);
  const dst = new Float32Array(elements);
  return limit("copy Float32Array.set", elements, measure(() => dst.set(src), policy));
}

/** Copy speed of wasm `memory.copy` between two regions of one memory. */
export function measureWasmCopy(elements: number, policy: RepeatPolicy): CopyLimit {
  const { memory, copy } = wasmCopier(elements);
  new Float32Array(memory.buffer, 0, elements).fill(1.5); // touch the pages so the first run does not fault them in
  const bytes = elements * 4;
  return limit("copy wasm memory.copy", elements, measure(() => copy(bytes, 0, bytes), policy));
}
