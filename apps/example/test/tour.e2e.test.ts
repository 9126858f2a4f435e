import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STACK_FRAME, cli, type Result } from "./helpers.js";

/** The parts of summary.json this test reads. */
interface Summary {
  command: string;
  quick: boolean;
  backend: string;
  activations: string[];
  runs: { part: string; label: string; activation: string; epochs: number; finalLoss: number; accuracy: number; msPerEpoch: number }[];
  figures: { id: string; svg: string; png: string }[];
  findings: {
    nonlinearity: { identityAccuracy: number; reluAccuracy: number; collapsed: { maxAbsDiff: number; agreement: number; weights: number[] } };
    gallery: { plotted: string[]; axis: string[]; skipped: unknown[]; derivativeCheck: Record<string, number> };
    shootout: { results: { activation: string; finalLoss: number; accuracy: number; losses: number[] }[] };
    vanishing: { depth: number; gradNorms: { sigmoid: number[]; relu: number[] } };
    "dead-relus": { final: Record<string, { dead: number; peak: number }> };
    softmax: { testAccuracy: number; probabilitySumMaxGap: number; handSoftmaxMaxGap: number; verdicts: { probabilities: Record<string, number> }[]; stability: { plugin: number[]; naive: unknown[] } };
  };
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Checks an SVG file: an <svg> root in the SVG namespace, closed, with a size. */
async function expectSvg(path: string): Promise<string> {
  const text = await readFile(path, "utf8");
  const body = text.replace(/^<\?xml[^>]*>\s*/, "");
  expect(body.startsWith("<svg")).toBe(true);
  expect(body).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(body).toMatch(/^<svg[^>]*\swidth="\d+(\.\d+)?"[^>]*\sheight="\d+(\.\d+)?"/);
  expect(body.trimEnd().endsWith("</svg>")).toBe(true);
  return text;
}

/** Checks a PNG file: the signature, then an IHDR chunk with a non-empty size. */
async function expectPng(path: string): Promise<void> {
  const bytes = await readFile(path);
  expect(bytes.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  expect(bytes.subarray(12, 16).toString("latin1")).toBe("IHDR");
  expect(bytes.readUInt32BE(16)).toBeGreaterThan(100);
  expect(bytes.readUInt32BE(20)).toBeGreaterThan(50);
}

describe("the shortened tour (--quick), end to end", () => {
  let out: string;
  let r: Result;
  let summary: Summary;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "neurite-example-tour-"));
    r = await cli(["--quick", "--out", out]);
    if (r.status !== 0) throw new Error(`the tour failed (status ${r.status}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
    summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Summary;
  }, 170_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("runs without errors and prints a line per training run and a summary table", () => {
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(summary.command).toBe("tour");
    expect(summary.quick).toBe(true);
    expect(summary.runs.length).toBeGreaterThanOrEqual(14);
    // not a terminal: no animated bars, but one result line per run
    const runLines = r.stdout.split("\n").filter((l) => /^\s{2}\S.*\bloss [\d.e-]+\s+accuracy\s+[\d.]+ %\s+[\d.]+ ms\/epoch$/.test(l));
    expect(runLines).toHaveLength(summary.runs.length);
    expect(r.stdout).toContain("Summary");
    expect(r.stdout).toMatch(/part\s+run\s+epochs\s+final loss\s+accuracy\s+ms\/epoch/);
    for (const run of summary.runs) expect(r.stdout).toContain(run.label);
  });

  it("writes report.html with every part, every figure inline and the summary table", async () => {
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html.startsWith("<!doctype html>")).toBe(true);
    for (const id of ["nonlinearity", "gallery", "shootout", "vanishing", "dead-relus", "softmax", "summary"]) {
      expect(html).toContain(`<section id="${id}">`);
    }
    expect(summary.figures.length).toBeGreaterThanOrEqual(10);
    for (const f of summary.figures) {
      expect(html).toContain(`<figure id="${f.id}">`);
      expect(html).toContain(`href="${f.svg}"`);
      expect(html).toContain(`href="${f.png}"`);
    }
    expect((html.match(/<svg[\s>]/g) ?? []).length).toBe(summary.figures.length);
    expect(html).not.toContain("{{figure:");
    expect(html).toContain("<th>part</th><th>run</th>");
  });

  it("writes every figure as a valid SVG and PNG", async () => {
    for (const f of summary.figures) {
      await expectSvg(join(out, f.svg));
      await expectPng(join(out, f.png));
      expect((await stat(join(out, f.png))).size).toBeGreaterThan(2000);
    }
    const ids = summary.figures.map((f) => f.id);
    for (const id of ["nonlinearity-identity", "nonlinearity-relu", "shootout-loss", "vanishing-gradnorm", "dead-relus", "softmax-iris", "gallery-example"]) {
      expect(ids).toContain(id);
    }
  });

  it("1. identity is near chance on the spirals, ReLU above 95 %, and the linear net is one linear map", () => {
    const n = summary.findings.nonlinearity;
    expect(n.identityAccuracy).toBeLessThanOrEqual(0.65);
    expect(n.reluAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(n.collapsed.weights).toHaveLength(2);
    expect(n.collapsed.maxAbsDiff).toBeLessThan(1e-4);
    expect(n.collapsed.agreement).toBeGreaterThanOrEqual(0.99);
  });

  it("2. the gallery draws every registered activation, softmax on a small example, with f′ checked", () => {
    const g = summary.findings.gallery;
    expect([...g.plotted].sort()).toEqual([...summary.activations].sort());
    expect(g.plotted).toContain("bentIdentity");
    expect(g.axis).toContain("softmax");
    expect(g.skipped).toEqual([]);
    for (const [name, gap] of Object.entries(g.derivativeCheck)) expect(gap, name).toBeLessThan(1e-5);
  });

  it("3. the shoot-out runs the seven contestants on the same task", () => {
    const s = summary.findings.shootout.results;
    expect(s.map((x) => x.activation)).toEqual(["sigmoid", "tanh", "relu", "leakyRelu", "elu", "gelu", "bentIdentity"]);
    for (const x of s) {
      expect(Number.isFinite(x.finalLoss)).toBe(true);
      expect(x.losses.length).toBeGreaterThan(5);
    }
    const loss = Object.fromEntries(s.map((x) => [x.activation, x.finalLoss]));
    // sigmoid saturates and learns slowest; ReLU does far better on the same steps
    expect(loss.relu!).toBeLessThan(loss.sigmoid!);
  });

  it("4. sigmoid's first-layer gradient is far below ReLU's in the deep network", () => {
    const v = summary.findings.vanishing;
    expect(v.gradNorms.sigmoid).toHaveLength(v.depth + 1);
    expect(v.gradNorms.sigmoid[0]!).toBeLessThan(v.gradNorms.relu[0]! / 10);
    // and it shrinks towards the input: the first layer gets less than the last hidden one
    expect(v.gradNorms.sigmoid[0]!).toBeLessThan(v.gradNorms.sigmoid[v.depth - 1]!);
  });

  it("5. at a high learning rate ReLU has dead units, fewer under leakyRelu and elu", () => {
    const d = summary.findings["dead-relus"].final;
    expect(d.relu!.dead).toBeGreaterThan(0);
    expect(d.relu!.dead).toBeGreaterThan(d.leakyRelu!.dead);
    expect(d.relu!.dead).toBeGreaterThan(d.elu!.dead);
  });

  it("6. the Iris classifier's softmax outputs are probabilities", () => {
    const s = summary.findings.softmax;
    expect(s.testAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(s.probabilitySumMaxGap).toBeLessThan(1e-5);
    expect(s.handSoftmaxMaxGap).toBeLessThan(1e-5);
    expect(s.verdicts.length).toBeGreaterThanOrEqual(3);
    for (const v of s.verdicts) {
      const ps = Object.values(v.probabilities);
      expect(ps).toHaveLength(3);
      for (const p of ps) expect(p).toBeGreaterThan(0);
      expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(s.stability.plugin.every(Number.isFinite)).toBe(true);
    expect(s.stability.plugin.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(s.stability.naive).toContain("NaN");
  });
});

describe("one part alone, and train", () => {
  it("`gallery` writes a report with that part only", async () => {
    const out = await mkdtemp(join(tmpdir(), "neurite-example-gallery-"));
    try {
      const r = await cli(["gallery", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const s = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Summary;
      expect(Object.keys(s.findings)).toEqual(["gallery"]);
      expect(s.runs).toEqual([]);
      for (const f of s.figures) expect(f.id.startsWith("gallery-")).toBe(true);
      const html = await readFile(join(out, "report.html"), "utf8");
      expect(html).toContain('<section id="gallery">');
      expect(html).not.toContain('<section id="shootout">');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it("`train` trains the app's own activation and draws its loss curve and decision boundary", async () => {
    const out = await mkdtemp(join(tmpdir(), "neurite-example-train-"));
    try {
      const r = await cli(["train", "--activation", "bentIdentity", "--dataset", "xor", "--epochs", "30", "--lr", "0.02", "--seed", "3", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const s = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as Summary & { findings: { train: { accuracy: number; losses: number[]; activation: string } } };
      expect(s.findings.train.activation).toBe("bentIdentity");
      expect(s.findings.train.losses).toHaveLength(30);
      expect(s.findings.train.losses[29]!).toBeLessThan(s.findings.train.losses[0]!);
      expect(s.findings.train.accuracy).toBeGreaterThan(0.8);
      expect(s.figures.map((f) => f.id)).toEqual(["train-loss", "train-boundary"]);
      for (const f of s.figures) {
        await expectSvg(join(out, f.svg));
        await expectPng(join(out, f.png));
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
