/** TestRng: the same stream for the same seed, values where each method says, and the moments of its laws. */
import { describe, expect, test } from "vitest";
import { TestRng } from "../src/index.js";

const DRAWS = 100_000;

describe("TestRng", () => {
  test("a seed gives one stream; another seed another", () => {
    const a = new TestRng(42);
    const b = new TestRng(42);
    const c = new TestRng(43);
    const streamA = Array.from({ length: 64 }, () => a.next());
    expect(Array.from({ length: 64 }, () => b.next())).toEqual(streamA);
    expect(Array.from({ length: 64 }, () => c.next())).not.toEqual(streamA);
    // the low 32 bits choose the stream
    expect(new TestRng(2 ** 32 + 42).next()).toBe(streamA[0]);
  });

  test("next is uniform on [0, 1): in range, with mean 1/2 and variance 1/12, and not stuck", () => {
    const rng = new TestRng(1);
    let sum = 0;
    let squares = 0;
    const distinct = new Set<number>();
    for (let i = 0; i < DRAWS; i++) {
      const v = rng.next();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
      squares += v * v;
      distinct.add(v);
    }
    const mean = sum / DRAWS;
    // the standard error of the mean is √(1/12 / n) ≈ 9e-4: 5 of them
    expect(Math.abs(mean - 0.5)).toBeLessThan(5e-3);
    expect(Math.abs(squares / DRAWS - mean * mean - 1 / 12)).toBeLessThan(5e-3);
    expect(distinct.size).toBeGreaterThan(DRAWS * 0.99);
  });

  test("uniform and values are float32 numbers in [lo, hi), values away from 0 by minAbs", () => {
    const rng = new TestRng(2);
    for (let i = 0; i < 1000; i++) {
      const v = rng.uniform(-3, 5);
      expect(Math.fround(v)).toBe(v);
      expect(v >= -3 && v < 5).toBe(true);
    }
    const xs = rng.values(1000, -1, 1, 0.25);
    for (const x of xs) expect(Math.fround(x) === x && Math.abs(x) >= 0.25 && x < 1 && x >= -1).toBe(true);
    const f32 = rng.float32Array(1000, 0, 2);
    expect(f32).toBeInstanceOf(Float32Array);
    expect(f32.every((v) => v >= 0 && v < 2)).toBe(true);
  });

  test("int covers [0, n) evenly and pick every element", () => {
    const rng = new TestRng(3);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < DRAWS; i++) counts[rng.int(10)]! += 1;
    // each count is binomial(n, 1/10): standard deviation ≈ 95
    for (const c of counts) expect(Math.abs(c - DRAWS / 10)).toBeLessThan(600);
    const picked = new Set(Array.from({ length: 200 }, () => rng.pick(["a", "b", "c"])));
    expect([...picked].sort()).toEqual(["a", "b", "c"]);
    expect(() => rng.pick([])).toThrow(RangeError);
  });

  test("normal has mean 0, variance 1 and symmetric tails", () => {
    const rng = new TestRng(4);
    let sum = 0;
    let squares = 0;
    let beyond2 = 0;
    for (let i = 0; i < DRAWS; i++) {
      const v = rng.normal();
      expect(Number.isFinite(v)).toBe(true);
      sum += v;
      squares += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    expect(Math.abs(sum / DRAWS)).toBeLessThan(0.02);
    expect(Math.abs(squares / DRAWS - 1)).toBeLessThan(0.03);
    // P(|Z| > 2) = 0.0455
    expect(Math.abs(beyond2 / DRAWS - 0.0455)).toBeLessThan(0.004);
  });
});
