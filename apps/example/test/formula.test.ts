/** Formulas on the command line: `train --activation "<formula>"` and `gallery --formula "<formula>"`. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scalarActivation } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { activationFromArgument, activationProblem } from "../src/formula.js";
import { registerPlugins } from "../src/setup.js";
import { STACK_FRAME, cli } from "./helpers.js";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe("an --activation value", () => {
  beforeAll(() => registerPlugins());

  it("that is a registered name stays that name", () => {
    expect(activationProblem("elu")).toBeUndefined();
    expect(activationFromArgument("elu")).toBe("elu");
  });

  it("that parses as a formula becomes a string-formula activation computing it (against float64 math)", () => {
    const text = "x*sigmoid(1.702*x)";
    expect(activationProblem(text)).toBeUndefined();
    const plugin = activationFromArgument(text);
    if (typeof plugin === "string") throw new Error("expected a plugin");
    expect(plugin.source).toBe(text);
    const s = scalarActivation(plugin);
    for (const x of [-7.5, -2, -0.3, 0, 0.4, 1, 3.25, 9]) {
      expect(s.f(x)).toBeCloseTo(x * sigmoid(1.702 * x), 12);
      // d/dx x·σ(kx) = σ(kx) + kx·σ(kx)(1 − σ(kx))
      const k = sigmoid(1.702 * x);
      expect(s.df(x)).toBeCloseTo(k + 1.702 * x * k * (1 - k), 10);
    }
  });

  it("that is neither gets both hints: the near registered names and the formula's caret", () => {
    const problem = activationProblem("eluu")!;
    expect(problem).toContain('Unknown activation "eluu". Did you mean "elu"?');
    expect(problem).toContain("Registered activations: ");
    expect(problem).toContain("It is not a formula either");
    expect(problem).toMatch(/eluu\n\s*\^/);
    const broken = activationProblem("x*sigmoid(1.702*")!;
    expect(broken).not.toContain("Did you mean");
    expect(broken).toMatch(/\n\s*\^/);
  });
});

describe("the CLI", () => {
  it("trains with a formula given as --activation", async () => {
    const out = await mkdtemp(join(tmpdir(), "neurite-example-formula-"));
    try {
      const r = await cli(["train", "--activation", "x*sigmoid(1.702*x)", "--dataset", "xor", "--epochs", "2", "--hidden", "4", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("x*sigmoid(1.702*x) on xor");
      const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as { runs: { activation: string; finalLoss: number }[] };
      expect(summary.runs.map((run) => run.activation)).toEqual(["x*sigmoid(1.702*x)"]);
      expect(Number.isFinite(summary.runs[0]!.finalLoss)).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("refuses a value that is neither a name nor a formula, with both hints, as a usage error", async () => {
    const r = await cli(["train", "--activation", "gelux", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown activation "gelux". Did you mean "gelu"?');
    expect(r.stderr).toMatch(/gelux\n\s*\^/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it("draws --formula in the gallery beside the plugins", async () => {
    const out = await mkdtemp(join(tmpdir(), "neurite-example-gallery-formula-"));
    try {
      const r = await cli(["gallery", "--quick", "--formula", "x*tanh(log1p(exp(x)))", "--formula", "x/(1+abs(x))", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as {
        findings: { gallery: { plotted: string[]; families: Record<string, string[]>; derivativeCheck: Record<string, number> } };
        figures: { id: string }[];
      };
      expect(summary.findings.gallery.families.formula).toEqual(["formula1", "formula2"]);
      expect(summary.figures.map((f) => f.id)).toContain("gallery-formula");
      // the derived derivative of each typed formula agrees with central differences of its float64 value
      expect(summary.findings.gallery.derivativeCheck.formula1).toBeLessThan(1e-6);
      expect(summary.findings.gallery.derivativeCheck.formula2).toBeLessThan(1e-6);
      const html = await readFile(join(out, "report.html"), "utf8");
      expect(html).toContain("x*tanh(log1p(exp(x)))");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("refuses a --formula that does not parse, pointing at the problem", async () => {
    const r = await cli(["gallery", "--formula", "x*(1+"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Not a formula over x");
    expect(r.stderr).toMatch(/x\*\(1\+\n\s*\^/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
