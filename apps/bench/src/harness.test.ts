import { describe, expect, it } from "vitest";
import { matmulGflops, measure, measureAsync, median, perSecond, repsFor } from "./harness.js";

describe("median", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([9, 2, 7, 4, 100])).toBe(7);
  });
  it("averages the two middle values of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });
  it("ignores outliers, unlike the mean", () => {
    expect(median([1, 1, 1, 1000])).toBe(1);
  });
  it("does not reorder its input", () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
  it("rejects an empty list with a message", () => {
    expect(() => median([])).toThrow(/at least one value/);
  });
});

describe("repsFor", () => {
  const policy = { warmup: 1, minReps: 3, maxReps: 20, budgetMs: 100 };
  it("fits the budget", () => {
    expect(repsFor(10, policy)).toBe(10);
  });
  it("never goes below minReps for slow runs nor above maxReps for fast ones", () => {
    expect(repsFor(1000, policy)).toBe(3);
    expect(repsFor(0.001, policy)).toBe(20);
    expect(repsFor(0, policy)).toBe(20);
  });
});

describe("measure", () => {
  it("runs the warm-ups untimed, then between minReps and maxReps timed runs", () => {
    let calls = 0;
    const t = measure(() => void calls++, { warmup: 2, minReps: 3, maxReps: 7, budgetMs: 1 });
    expect(t.reps).toBe(t.samples.length);
    expect(t.reps).toBeGreaterThanOrEqual(3);
    expect(t.reps).toBeLessThanOrEqual(7);
    expect(calls).toBe(2 + t.reps);
    expect(t.medianMs).toBe(median(t.samples));
    expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
    expect(t.maxMs).toBeGreaterThanOrEqual(t.medianMs);
  });
  it("keeps a warm-up run that exceeds singleRunAboveMs as the only sample", () => {
    let calls = 0;
    const slow = (): void => {
      calls++;
      const t0 = performance.now();
      while (performance.now() - t0 < 2) {
        // busy: the run must outlast the threshold
      }
    };
    const t = measure(slow, { warmup: 1, minReps: 5, maxReps: 5, budgetMs: 1000, singleRunAboveMs: 1 });
    expect(calls).toBe(1);
    expect(t.reps).toBe(1);
  });
  it("measureAsync awaits every run", async () => {
    let done = 0;
    const t = await measureAsync(async () => {
      await Promise.resolve();
      done++;
    }, { warmup: 1, minReps: 4, maxReps: 4, budgetMs: 1 });
    expect(t.reps).toBe(4);
    expect(done).toBe(5);
  });
});

describe("units", () => {
  it("perSecond converts a count over milliseconds", () => {
    expect(perSecond(1000, 500)).toBe(2000);
  });
  it("matmulGflops counts 2·m·n·k operations", () => {
    // 1024³ · 2 = 2.147e9 operations in 1 s
    expect(matmulGflops(1024, 1024, 1024, 1000)).toBeCloseTo(2.147483648, 9);
    expect(matmulGflops(128, 784, 256, 1)).toBeCloseTo((2 * 128 * 784 * 256) / 1e6, 9);
  });
});
