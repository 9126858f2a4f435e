/**
 * A tiny seeded generator (mulberry32) for test inputs. It is kept apart from core's `Random` so that the inputs
 * of a check never depend on the code under test, and it lives in this package with no dependencies so that
 * every package's tests, the backends' included, can use the same one without a cycle in the package graph.
 */
export class TestRng {
  private state: number;

  /** @param seed any number; its low 32 bits choose the stream. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1), a multiple of 2⁻³². */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * Uniform in [lo, hi), rounded to float32, so that float64 references see exactly what the backends see.
   * (The rounding can reach `hi` itself when [lo, hi) spans few float32 steps.)
   */
  uniform(lo: number, hi: number): number {
    return Math.fround(lo + (hi - lo) * this.next());
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty list, each equally likely. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("TestRng.pick needs a non-empty list");
    return items[this.int(items.length)]!;
  }

  /** A standard normal value rounded to float32 (Box–Muller, one value per two draws). */
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

  /** `n` values uniform in [lo, hi) as a Float32Array: what a backend's buffers hold. */
  float32Array(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from(this.values(n, lo, hi));
  }
}
