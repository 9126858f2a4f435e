// A minimal WebAssembly binary encoder: enough to emit one-function modules that import the backend's
// memory. Written by hand (LEB128, sections, opcodes) so that run-time kernels need no dependency.

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Core opcodes used by the generator. */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  f32Load: 0x2a, f32Store: 0x38,
  i32Const: 0x41, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GeS: 0x4e, i32GeU: 0x4f,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Shl: 0x74,
  f32DemoteF64: 0xb6,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const Simd = {
  load: 0x00, load32Splat: 0x09, store: 0x0b, const: 0x0c, shuffle: 0x0d, load32Lane: 0x56, store32Lane: 0x5a,
  i32x4Splat: 0x11, f32x4Splat: 0x13, f64x2Splat: 0x14,
  f32x4ExtractLane: 0x1f,
  i32x4Eq: 0x37,
  f32x4Eq: 0x41, f32x4Ne: 0x42, f32x4Lt: 0x43, f32x4Gt: 0x44, f32x4Le: 0x45, f32x4Ge: 0x46,
  f64x2Eq: 0x47, f64x2Ne: 0x48, f64x2Lt: 0x49, f64x2Gt: 0x4a, f64x2Le: 0x4b, f64x2Ge: 0x4c,
  not: 0x4d, and: 0x4e, andnot: 0x4f, or: 0x50, xor: 0x51, bitselect: 0x52, anyTrue: 0x53,
  f32x4DemoteF64x2Zero: 0x5e, f64x2PromoteLowF32x4: 0x5f,
  f32x4Floor: 0x68, f32x4Trunc: 0x69, f32x4Nearest: 0x6a, f64x2Floor: 0x75, f64x2Nearest: 0x94,
  i32x4Shl: 0xab, i32x4ShrS: 0xac, i32x4ShrU: 0xad, i32x4Add: 0xae, i32x4Sub: 0xb1,
  i64x2ExtendLowI32x4S: 0xc7, i64x2Shl: 0xcb, i64x2ShrU: 0xcd, i64x2Add: 0xce, i64x2Sub: 0xd1,
  f32x4Abs: 0xe0, f32x4Neg: 0xe1, f32x4Sqrt: 0xe3, f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6, f32x4Div: 0xe7,
  f32x4Min: 0xe8, f32x4Max: 0xe9, f32x4Pmin: 0xea, f32x4Pmax: 0xeb,
  f64x2Abs: 0xec, f64x2Neg: 0xed, f64x2Sqrt: 0xef, f64x2Add: 0xf0, f64x2Sub: 0xf1, f64x2Mul: 0xf2, f64x2Div: 0xf3,
  f64x2Min: 0xf4, f64x2Max: 0xf5,
  i32x4TruncSatF32x4S: 0xf8, f32x4ConvertI32x4S: 0xfa, i32x4TruncSatF64x2SZero: 0xfc,
} as const;

/** A growable byte buffer with the LEB128 and IEEE encoders of the binary format. */
export class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + extra));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    this.ensure(1);
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  bytes(src: ArrayLike<number>): this {
    this.ensure(src.length);
    for (let i = 0; i < src.length; i++) this.buf[this.length++] = src[i]! & 0xff;
    return this;
  }

  /** Unsigned LEB128. */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x === 0 ? b : b | 0x80);
    } while (x !== 0);
    return this;
  }

  /** Signed LEB128 (32-bit). */
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      const done = (x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  f64(v: number): this {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v, true);
    return this.bytes(new Uint8Array(d.buffer));
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).bytes(utf8);
  }

  /** A length-prefixed copy of another buffer (section and function bodies). */
  sized(inner: Bytes): this {
    this.u32(inner.length);
    return this.bytes(inner.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/**
 * Instructions of one function body. Locals are allocated on demand; `finish` writes the local
 * declarations in front of the code.
 */
export class FunctionBuilder {
  readonly code = new Bytes();
  /** Code run once at entry, before `code` (hoisted constants). */
  readonly prologue = new Bytes();
  private readonly localTypes: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of the given type; returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  op(code: number): this {
    this.code.byte(code);
    return this;
  }

  byte(b: number): this {
    this.code.byte(b);
    return this;
  }

  u32(v: number): this {
    this.code.u32(v);
    return this;
  }

  simd(code: number): this {
    this.code.byte(0xfd).u32(code);
    return this;
  }

  get(i: number): this {
    this.code.byte(Op.localGet).u32(i);
    return this;
  }

  set(i: number): this {
    this.code.byte(Op.localSet).u32(i);
    return this;
  }

  i32(v: number): this {
    this.code.byte(Op.i32Const).s32(v);
    return this;
  }

  /** A memory access with natural alignment `align` (log2 bytes) and a constant offset. */
  mem(code: number, align: number, offset = 0, simd = false): this {
    if (simd) this.code.byte(0xfd).u32(code);
    else this.code.byte(code);
    this.code.u32(align).u32(offset);
    return this;
  }

  v128Const(bytes: Uint8Array): this {
    this.code.byte(0xfd).u32(Simd.const).bytes(bytes);
    return this;
  }

  shuffle(lanes: readonly number[]): this {
    this.code.byte(0xfd).u32(Simd.shuffle).bytes(lanes);
    return this;
  }

  lane(code: number, lane: number): this {
    this.code.byte(0xfd).u32(code).byte(lane);
    return this;
  }

  /** The encoded body: local declarations (run-length grouped), the code and `end`. */
  finish(): Bytes {
    const body = new Bytes();
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    body.u32(groups.length);
    for (const [count, type] of groups) body.u32(count).byte(type);
    body.bytes(this.prologue.view());
    body.bytes(this.code.view());
    body.byte(Op.end);
    return body;
  }
}

/** Limits of the imported memory: the backend's pages (shared memory needs a maximum). */
export interface MemoryImport {
  readonly initial: number;
  readonly maximum: number;
  readonly shared: boolean;
}

/** A module importing env.memory and exporting one function `k` with the given parameters. */
export function encodeModule(memory: MemoryImport, fn: FunctionBuilder): Uint8Array {
  const out = new Bytes();
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, fill: (b: Bytes) => void): void => {
    const b = new Bytes();
    fill(b);
    out.byte(id).sized(b);
  };
  section(1, (b) => {
    b.u32(1).byte(0x60).u32(fn.params.length);
    for (const p of fn.params) b.byte(p);
    b.u32(0);
  });
  section(2, (b) => {
    b.u32(1).name("env").name("memory").byte(0x02);
    b.byte(memory.shared ? 0x03 : 0x01).u32(memory.initial).u32(memory.maximum);
  });
  section(3, (b) => b.u32(1).u32(0));
  section(7, (b) => b.u32(1).name("k").byte(0x00).u32(0));
  section(10, (b) => b.u32(1).sized(fn.finish()));
  return out.view().slice();
}
