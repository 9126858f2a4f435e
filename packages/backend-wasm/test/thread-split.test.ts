import { describe, expect, it } from "vitest";
import { splitForThreads } from "../src/elementwise.js";

describe("splitForThreads (how elementwise work is cut for the threads)", () => {
  const cases: [number, number, number][] = [
    [1, 1 << 16, 2], [1, 65537, 3], [3, 100_003, 4], [2, 7, 2], [4, 1000, 4], [5, 70_000, 2], [1000, 300, 3], [7, 9, 7], [1, 3, 8],
  ];

  it.each(cases)("rows %i × cols %i over %i threads: every element exactly once, column cuts on multiples of 4", (rows, cols, threads) => {
    const blocks = splitForThreads(rows, cols, threads);
    const covered = new Uint8Array(rows * cols);
    for (const { r0, r1, c0, c1 } of blocks) {
      expect(r1).toBeGreaterThan(r0);
      expect(c1).toBeGreaterThan(c0);
      expect(c0 % 4).toBe(0);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) covered[r * cols + c]!++;
    }
    expect(covered.every((count) => count === 1)).toBe(true);
  });

  it("cuts rows, at most one block per thread, when there are at least as many rows as threads", () => {
    expect(splitForThreads(5, 70_000, 2)).toEqual([{ r0: 0, r1: 2, c0: 0, c1: 70_000 }, { r0: 2, r1: 5, c0: 0, c1: 70_000 }]);
    expect(splitForThreads(1000, 300, 3).map((b) => b.r1 - b.r0)).toEqual([333, 333, 334]);
  });

  it("cuts each row into one column chunk per thread when there are fewer rows than threads", () => {
    // ceil(65537 / 3 / 4) · 4 = 21848 columns per chunk
    expect(splitForThreads(1, 65537, 3)).toEqual([
      { r0: 0, r1: 1, c0: 0, c1: 21848 }, { r0: 0, r1: 1, c0: 21848, c1: 43696 }, { r0: 0, r1: 1, c0: 43696, c1: 65537 },
    ]);
  });
});
