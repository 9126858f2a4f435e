import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digits, digitsSplit } from "../src/datasets/digits.js";
import { confusionMatrix } from "../src/parts/digits.js";
import { type Result, STACK_FRAME, cli } from "./helpers.js";

interface DigitsSummary {
  readonly quick: boolean;
  readonly findings: { readonly digits: { accuracy: number; testImages: number; confusion: number[][] } };
  readonly figures: readonly { id: string; svg: string; png: string }[];
}

describe("the digits data", () => {
  it("holds scikit-learn's 1,797 images of the ten digits, pixels in [0, 1]", () => {
    const d = digits();
    expect(d.count).toBe(1797);
    expect(d.pixels.length).toBe(1797 * 64);
    expect([...new Set(d.labels)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Math.min(...d.pixels)).toBe(0);
    expect(Math.max(...d.pixels)).toBe(1);
  });

  it("splits into disjoint train and test rows that cover every image", () => {
    const { train, test } = digitsSplit(1797, 3);
    expect(test.length).toBe(359);
    expect(new Set([...train, ...test]).size).toBe(1797);
  });

  it("counts a confusion matrix by true class (rows) and prediction (columns)", () => {
    expect(confusionMatrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)).toEqual([[1, 1, 0], [0, 1, 0], [1, 0, 1]]);
  });
});

describe("digits --quick", () => {
  let dir = "";
  let result: Result;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "neurite-digits-"));
    result = await cli(["digits", "--quick", "--out", dir]);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("trains the CNN, prints the test accuracy and writes the report, the filters and the confusion matrix", async () => {
    expect(result.stderr).not.toMatch(STACK_FRAME);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/test accuracy \d+\.\d %/);
    for (const f of ["report.html", "summary.json", "figures/digits-filters.svg", "figures/digits-filters.png", "figures/digits-confusion.svg", "figures/digits-confusion.png"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const html = await readFile(join(dir, "report.html"), "utf8");
    expect(html).toContain('id="digits-filters"');
    expect(html).toContain('id="digits-confusion"');
    // one small heat map per first-layer filter
    const filters = await readFile(join(dir, "figures/digits-filters.svg"), "utf8");
    for (let f = 1; f <= 16; f++) expect(filters).toContain(`filter ${f}<`);
  });

  it("reaches an accuracy well above chance (10 %), consistent with its confusion matrix", async () => {
    const summary = JSON.parse(await readFile(join(dir, "summary.json"), "utf8")) as DigitsSummary;
    const { accuracy, testImages, confusion } = summary.findings.digits;
    expect(summary.quick).toBe(true);
    expect(accuracy).toBeGreaterThanOrEqual(0.8);
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(testImages);
    const diagonal = confusion.reduce((s, row, i) => s + row[i]!, 0);
    expect(diagonal / testImages).toBeCloseTo(accuracy, 10);
    expect(result.stdout).toContain(`test accuracy ${(accuracy * 100).toFixed(1)} %`);
  });

  it("is listed in the help text", async () => {
    const help = await cli(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^\s+digits\b.*CNN/m);
  });
});
