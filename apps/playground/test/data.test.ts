import { describe, expect, it } from "vitest";
import { DATASETS, DOMAIN, generate, gridPoints, splitData } from "../src/data.js";

describe("data sets", () => {
  it.each(DATASETS)("%s: the seed fixes the points; classes are balanced", (name) => {
    const a = generate(name, 200, 0.2, 7);
    expect(a).toHaveLength(200);
    expect(generate(name, 200, 0.2, 7)).toEqual(a);
    expect(generate(name, 200, 0.2, 8)).not.toEqual(a);
    if (name !== "plane" && name !== "xor") expect(a.filter((p) => p.label === 1)).toHaveLength(100);
    if (name === "plane") expect(a.every((p) => p.label >= -1 && p.label <= 1)).toBe(true);
    else expect(a.every((p) => p.label === 0 || p.label === 1)).toBe(true);
  });

  it("labels follow each shape's definition without noise", () => {
    for (const p of generate("circle", 300, 0, 1)) expect(Math.hypot(p.x, p.y) < 3 ? 1 : 0).toBe(p.label);
    for (const p of generate("xor", 300, 0, 1)) expect(p.x * p.y > 0 ? 1 : 0).toBe(p.label);
    for (const p of generate("plane", 300, 0, 1)) expect(p.label).toBeCloseTo((p.x + p.y) / 10, 12);
    // the two spirals are point reflections of each other
    const s = generate("spiral", 100, 0, 1);
    for (let i = 0; i < 50; i++) {
      expect(s[i + 50]!.x).toBeCloseTo(-s[i]!.x, 12);
      expect(s[i + 50]!.y).toBeCloseTo(-s[i]!.y, 12);
    }
  });

  it("splits by the training fraction, drops erased points and trains on drawn ones", () => {
    const points = generate("gauss", 100, 0, 3);
    const split = splitData(points, { added: [{ x: 1, y: 1, label: 0 }], removed: [0, 1, 2, 3] }, 0.25, 3);
    expect(split.train).toHaveLength(24 + 1);
    expect(split.test).toHaveLength(72);
    expect(split.train.at(-1)).toEqual({ x: 1, y: 1, label: 0 });
    const all = [...split.train.slice(0, -1), ...split.test];
    expect(new Set(all).size).toBe(96);
    for (const i of [0, 1, 2, 3]) expect(all).not.toContain(points[i]);
  });

  it("the grid covers [−6, 6]² at cell centres, row by row from the top", () => {
    const g = gridPoints(100);
    expect(g).toHaveLength(20000);
    const cell = (2 * DOMAIN) / 100;
    expect(g[0]).toBeCloseTo(-DOMAIN + cell / 2, 6);
    expect(g[1]).toBeCloseTo(DOMAIN - cell / 2, 6);
    expect(g[2 * 99]).toBeCloseTo(DOMAIN - cell / 2, 6);
    expect(g[2 * 9999 + 1]).toBeCloseTo(-DOMAIN + cell / 2, 6);
  });
});
