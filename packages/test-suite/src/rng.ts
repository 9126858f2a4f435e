/**
 * Test-input generation: a tiny seeded generator (mulberry32) kept separate from core's `Random`, so that
 * the inputs of a check never depend on the code under test. Values are rounded to float32, so that the
 * float64 references see exactly what the backends see.
 */
export class TestRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [lo, hi), rounded to float32. */
  uniform(lo: number, hi: number): number {
    return Math.fround(lo + (hi - lo) * this.next());
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A standard normal value rounded to float32 (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.fround(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next()));
  }
  /** `n` float32 values uniform in [lo, hi) whose magnitude is at least `minAbs` (kept away from a kink at 0). */
  values(n: number, lo = -2, hi = 2, minAbs = 0): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v: number;
      do v = this.uniform(lo, hi);
      while (Math.abs(v) < minAbs);
      out[i] = v;
    }
    return out;
  }
}
