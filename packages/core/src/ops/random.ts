import { ArgumentError } from "../errors.js";

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/**
 * The largest float32 strictly below x. (Scaling max by 0.9999999 before rounding, as before, rounded back up
 * to max itself when max − min spans few float32 steps, breaking the half-open interval.)
 */
function float32Below(x: number): number {
  f32[0] = x;
  if (f32[0] < x) return f32[0];
  if (f32[0] === 0) return -1.401298464324817e-45;
  i32[0] = (i32[0] ?? 0) + (f32[0] > 0 ? -1 : 1);
  return f32[0];
}

/**
 * A small seeded generator (sfc32, seeded through splitmix32) built on 32-bit integer arithmetic only, so the
 * same seed gives the same stream on every engine and platform. Normals use Box–Muller in float64, rounded
 * to float32.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new ArgumentError(`seed must be a finite number, got ${seed}`);
    let s = Math.floor(seed) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    // the high part of seeds above 2^32 still matters
    this.a = next() ^ Math.floor(seed / 2 ** 32);
    this.b = next();
    this.c = next();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  private static counter = 0x2545f491;
  /** A seed for callers that gave none: different each call. */
  static freshSeed(): number {
    Random.counter = (Math.imul(Random.counter, 1664525) + 1013904223 + Date.now()) >>> 0;
    return Random.counter;
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal value. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  uniformArray(n: number, min: number, max: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // rounding to float32 can reach max itself; keep the interval half-open
      let v = Math.fround(min + (max - min) * this.next());
      if (v >= max && max > min) v = float32Below(max);
      out[i] = v;
    }
    return out;
  }

  normalArray(n: number, mean: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A seeded permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const p = new Array<number>(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}
