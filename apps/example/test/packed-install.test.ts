import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_DIR, type Result, run } from "./helpers.js";

/**
 * The packages as users get them: every library package packed with `pnpm pack` (which rewrites
 * `workspace:*` to real versions), installed with npm into a fresh project outside the workspace, then used
 * from an ESM script, a CommonJS script and TypeScript against the published .d.ts files.
 */

const PNPM = ["-y", "pnpm@12.4.2"];
const TSC = join(REPO_DIR, "node_modules/.bin/tsc");

interface Pkg {
  readonly name: string;
  readonly dir: string;
}

/** Every non-private package under packages/. */
function libraryPackages(): Pkg[] {
  const root = join(REPO_DIR, "packages");
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, "package.json")))
    .map((d) => ({ dir: join(root, d), json: JSON.parse(readFileSync(join(root, d, "package.json"), "utf8")) as { name: string; private?: boolean } }))
    .filter((p) => !p.json.private)
    .map((p) => ({ name: p.json.name, dir: p.dir }));
}

function expectOk(r: Result, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}):\n${r.stderr}\n${r.stdout}`);
}

/** XOR with four points: no linear model solves it, a hidden ELU layer does. */
const TRAIN_BODY = `
use(cpuBackend, reluFamily);
await setBackend("cpu");
const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[0], [1], [1], [0]]);
const model = sequential([
  { type: "dense", units: 8, activation: "elu", inputShape: [2] },
  { type: "dense", units: 1 },
], { seed: 3 });
model.compile({ optimizer: adam({ lr: 0.05 }), loss: { name: "binaryCrossEntropy", fromLogits: true } });
const before = model.evaluate(x, y).loss;
await model.fit(x, y, { epochs: 300, batchSize: 4, shuffle: false });
const after = model.evaluate(x, y).loss;
const logits = Array.from(model.predict(x).dataSync());
console.log(JSON.stringify({ before, after, logits, backend: getBackend().name }));
`;

const ESM_SCRIPT = `import { adam, getBackend, sequential, setBackend, tensor, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { reluFamily } from "@neurite/activations-relu";
${TRAIN_BODY}`;

const CJS_SCRIPT = `"use strict";
const { adam, getBackend, sequential, setBackend, tensor, use } = require("@neurite/core");
const { cpuBackend } = require("@neurite/backend-cpu");
const { reluFamily } = require("@neurite/activations-relu");
(async () => {
${TRAIN_BODY}
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** A TypeScript user: the family's import brings its names into ActivationRegistry. */
const typed = (activation: string) => `import { sequential, setBackend, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { reluFamily } from "@neurite/activations-relu";

use(cpuBackend, reluFamily);
void setBackend("cpu");
export const model = sequential([
  { type: "dense", units: 8, activation: "${activation}", inputShape: [2] },
  { type: "dense", units: 1, activation: { name: "leakyRelu", alpha: 0.2 } },
]);
`;

const TSCONFIG = {
  compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, skipLibCheck: true, types: [] },
};

/**
 * A plugin author's module, as the user wrote it from the guide: snake and squareplus in their textbook
 * forms (no hand-written sine, square root or derivative), and one activation given as a string formula.
 */
const ACTIVATIONS_BODY = (core: string) => `
const snake = ${core}.defineActivation({
  name: "snake", family: "periodic", package: "my-activations", version: "1.0.0", description: "x + sin(a·x)²/a",
  params: { a: { default: 1, min: 0, exclusiveMin: true, trainable: true } },
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x, p) => x.add(x.mul(p.a).sin().square().div(p.a)),
});
const squareplus = ${core}.defineActivation({
  name: "squareplus", family: "squareplus", package: "my-activations", version: "1.0.0", description: "(x + sqrt(x² + b))/2",
  params: { b: { default: 4, min: 0 } },
  meta: { range: [0, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x, p) => x.add(x.square().add(p.b).sqrt()).div(2),
});
const quickGelu = ${core}.defineActivation({
  name: "quickGelu", family: "gelu", package: "my-activations", version: "1.0.0", description: "x·σ(1.702x)",
  params: {}, meta: { range: [-0.2, Infinity], monotonic: false, smoothAtZero: true },
  formula: "x * sigmoid(1.702 * x)",
});
`;
const ACTIVATIONS_ESM = `import * as core from "@neurite/core";\n${ACTIVATIONS_BODY("core")}\nexport { snake, squareplus, quickGelu };\n`;
const ACTIVATIONS_CJS = `"use strict";\nconst core = require("@neurite/core");\n${ACTIVATIONS_BODY("core")}\nmodule.exports = { snake, squareplus, quickGelu };\n`;

/**
 * checkActivation on cpu and wasm with independent float64 references (written from the papers, not from the
 * declarations), collecting formula advice; then each activation trains on XOR, is saved and loaded.
 */
const AUTHOR_BODY = `
use(cpuBackend, wasmBackend, snake, squareplus, quickGelu);
const sigma = (v) => 1 / (1 + Math.exp(-v));
const cases = {
  snake: {
    params: [{}, { a: 0.5 }, { a: 3 }],
    reference: (x, p) => x + Math.sin(p.a * x) ** 2 / p.a,
    derivativeReference: (x, p) => 1 + Math.sin(2 * p.a * x),
  },
  squareplus: {
    params: [{}, { b: 0.5 }, { b: 9 }],
    // the paper's formula in float64 (like it, the textbook form is NaN at x = −∞, where the limit is 0)
    reference: (x, p) => (x + Math.sqrt(x * x + p.b)) / 2,
    derivativeReference: (x, p) => (1 + x / Math.sqrt(x * x + p.b)) / 2,
  },
  quickGelu: {
    params: [{}],
    reference: (x) => x * sigma(1.702 * x),
    derivativeReference: (x) => sigma(1.702 * x) + 1.702 * x * sigma(1.702 * x) * (1 - sigma(1.702 * x)),
  },
};
const out = {};
for (const [name, c] of Object.entries(cases)) {
  const advice = [];
  const plugin = { snake, squareplus, quickGelu }[name];
  let check;
  try {
    const report = await checkActivation(plugin, { backends: ["cpu", "wasm"], ...c, numRuns: 25, onAdvice: (a) => advice.push(a) });
    check = { ok: true, checks: report.results.length, backends: report.backends, advice: report.advice };
  } catch (e) {
    check = { ok: false, message: String(e && e.message || e) };
  }
  for (const a of advice) console.error("advice [" + name + "]: " + a);
  const trained = {};
  for (const backend of ["cpu", "wasm"]) {
    await setBackend(backend);
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    const model = sequential([{ type: "dense", units: 8, activation: name, inputShape: [2] }, { type: "dense", units: 1 }], { seed: 5 });
    model.compile({ optimizer: adam({ lr: 0.05 }), loss: { name: "binaryCrossEntropy", fromLogits: true } });
    const before = model.evaluate(x, y).loss;
    await model.fit(x, y, { epochs: 200, batchSize: 4, shuffle: false });
    const after = model.evaluate(x, y).loss;
    const saved = saveModel(model);
    const loaded = loadModel({ json: JSON.parse(JSON.stringify(saved.json)), weights: saved.weights });
    const p = Array.from(model.predict(x).dataSync()), q = Array.from(loaded.predict(x).dataSync());
    trained[backend] = { before, after, sameAfterLoad: p.every((v, i) => Object.is(v, q[i])), recorded: JSON.stringify(saved.json).includes('"name":"' + name + '"') };
  }
  out[name] = { check, advice, trained };
}
console.log(JSON.stringify(out));
`;

const AUTHOR_ESM = `import { adam, loadModel, saveModel, sequential, setBackend, tensor, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { checkActivation } from "@neurite/testkit";
import { snake, squareplus, quickGelu } from "./activations.mjs";
${AUTHOR_BODY}`;

const AUTHOR_CJS = `"use strict";
const { adam, loadModel, saveModel, sequential, setBackend, tensor, use } = require("@neurite/core");
const { cpuBackend } = require("@neurite/backend-cpu");
const { wasmBackend } = require("@neurite/backend-wasm");
const { checkActivation } = require("@neurite/testkit");
const { snake, squareplus, quickGelu } = require("./activations.cjs");
(async () => {
${AUTHOR_BODY}
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * A reference file for snake, in the schema of PyTorch's values, computed here in float64 from the paper's formula
 * x + sin²(a·x)/a and its derivative 1 + sin(2a·x).
 */
function snakeReferenceFile(): string {
  const x = [-1e4, -30, -7.9, -2, -0.5, 0, 0.5, 2, 7.9, 30, 1e4].map(Math.fround);
  const gPattern = [1, -0.5, 2, 0.25, -1.5, 0.75, -2, 1.25, 0.5, -1, 3];
  const cases = [1, 0.5, 3].map((a) => {
    const y = x.map((v) => v + Math.sin(a * v) ** 2 / a);
    const dydx = x.map((v) => 1 + Math.sin(2 * a * v));
    const g = x.map((_, i) => gPattern[i % gPattern.length]!);
    return {
      id: `snake[a=${a}]/grid`, op: "snake", kind: "elementwise", params: { a }, definition: "x + sin(a*x)^2/a",
      shape: [x.length], x, g, y64: y, grad64: dydx.map((d, i) => d * g[i]!), dydx64: dydx,
    };
  });
  return JSON.stringify({ meta: { description: "snake in float64 from the paper's formula" }, cases }, null, 2);
}

interface AuthorResult {
  readonly check: { ok: boolean; message?: string; checks?: number; backends?: string[]; advice?: string[] };
  readonly advice: string[];
  readonly trained: Record<string, { before: number; after: number; sameAfterLoad: boolean; recorded: boolean }>;
}

interface Trained {
  before: number;
  after: number;
  logits: number[];
  backend: string;
}

describe("the library packages, packed and installed with npm outside the workspace", () => {
  let work: string;
  let project: string;
  const packages = libraryPackages();

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "neurite-packed-"));
    const tarballs = join(work, "tarballs");
    project = join(work, "project");
    for (const p of packages) {
      if (!existsSync(join(p.dir, "dist"))) throw new Error(`${p.name} has no dist/: build it first (pnpm build from the repository root)`);
    }
    // one at a time: pnpm pack is quick, and the machine has two cores
    for (const p of packages) expectOk(await run("npx", [...PNPM, "pack", "--pack-destination", tarballs], { cwd: p.dir }), `pnpm pack in ${p.dir}`);
    const files = (await readdir(tarballs)).filter((f) => f.endsWith(".tgz")).map((f) => join(tarballs, f));
    expect(files).toHaveLength(packages.length);
    await run("mkdir", ["-p", project]);
    expectOk(await run("npm", ["init", "-y"], { cwd: project }), "npm init");
    expectOk(
      await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files], { cwd: project, timeoutMs: 240_000 }),
      "npm install of the tarballs",
    );
    await writeFile(join(project, "train.mjs"), ESM_SCRIPT);
    await writeFile(join(project, "train.cjs"), CJS_SCRIPT);
    await writeFile(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    await writeFile(join(project, "activations.mjs"), ACTIVATIONS_ESM);
    await writeFile(join(project, "activations.cjs"), ACTIVATIONS_CJS);
    await writeFile(join(project, "author.mjs"), AUTHOR_ESM);
    await writeFile(join(project, "author.cjs"), AUTHOR_CJS);
    await writeFile(join(project, "snake.json"), snakeReferenceFile());
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("packs every library package, with workspace:* rewritten to versions", () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(["@neurite/core", "@neurite/backend-cpu", "@neurite/activations-relu"]));
    for (const p of packages) {
      const installed = JSON.parse(readFileSync(join(project, "node_modules", p.name, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
      for (const [dep, range] of Object.entries(installed.dependencies ?? {})) expect(range, `${p.name} → ${dep}`).not.toMatch(/^workspace:/);
      expect(existsSync(join(project, "node_modules", p.name, "dist")), `${p.name}/dist`).toBe(true);
    }
  });

  it.each([
    ["an ESM script", "train.mjs"],
    ["a CommonJS script", "train.cjs"],
  ])("%s trains a small network with core, backend-cpu and the relu family", async (_what, file) => {
    const r = await run(process.execPath, [file], { cwd: project });
    expectOk(r, `node ${file}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Trained;
    expect(out.backend).toBe("cpu");
    expect(out.after).toBeLessThan(out.before / 5);
    // XOR solved: positive logits exactly for (0,1) and (1,0)
    expect(out.logits.map((z) => z > 0)).toEqual([false, true, true, false]);
  });

  it.each([
    ["ESM", "author.mjs"],
    ["CommonJS", "author.cjs"],
  ])("a plugin author (%s): textbook snake and squareplus, and a string formula, pass checkActivation on cpu and wasm, train, save and load", async (_what, file) => {
    const r = await run(process.execPath, [file], { cwd: project, timeoutMs: 400_000 });
    expectOk(r, `node ${file}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, AuthorResult>;
    expect(Object.keys(out)).toEqual(["snake", "squareplus", "quickGelu"]);
    for (const [name, result] of Object.entries(out)) {
      expect(result.check, `${name}: ${result.check.message ?? ""}`).toMatchObject({ ok: true, backends: ["cpu", "wasm"] });
      for (const backend of ["cpu", "wasm"]) {
        const t = result.trained[backend]!;
        expect(t.after, `${name} on ${backend}`).toBeLessThan(t.before / 3);
        expect(t.sameAfterLoad, `${name} on ${backend}`).toBe(true);
        expect(t.recorded, `${name} on ${backend}`).toBe(true);
      }
    }
    // the textbook squareplus cancels for x ≪ 0 and overflows x² near 3.4e38: advice, printed, not a failure
    const advice = out.squareplus!.check.advice!;
    expect(advice.length).toBeGreaterThan(0);
    expect(advice.some((a) => a.includes("x=-10000") && a.includes("conjugate"))).toBe(true);
    // each piece of advice in the report was also handed to onAdvice, which the script printed
    expect(out.squareplus!.advice).toHaveLength(advice.length);
    for (const a of advice) expect(r.stderr).toContain(a);
    // every activation printed its advice as it came (snake's a·x overflows near 3.4e38 for a = 3)
    for (const name of ["snake", "squareplus"]) expect(r.stderr).toContain(`advice [${name}]: `);
  }, 420_000);

  it.each([
    ["an ESM", "activations.mjs"],
    ["a CommonJS", "activations.cjs"],
  ])("the conformance CLI checks a reference file for snake from %s plugin module", async (_what, plugin) => {
    const cli = join(project, "node_modules", "@neurite", "conformance", "dist", "cli.js");
    const r = await run(process.execPath, [cli, "--backend", "all", "--plugin", `./${plugin}`, "--json", "report.json", "snake.json"], { cwd: project, env: { INIT_CWD: project } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("activation snake");
    const report = JSON.parse(readFileSync(join(project, "report.json"), "utf8")) as { summary: { pass: number; fail: number; unsupported: number } };
    // 3 cases × 2 backends
    expect(report.summary).toEqual({ pass: 6, fail: 0, unsupported: 0 });
  });

  it("type-checks against the published .d.ts: an installed activation name compiles", async () => {
    await writeFile(join(project, "ok.mts"), typed("elu"));
    await writeFile(join(project, "ok.cts"), typed("elu"));
    const r = await run(TSC, ["-p", "tsconfig.json"], { cwd: project });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("type-checks against the published .d.ts: a misspelled activation name does not", async () => {
    await rm(join(project, "ok.mts"), { force: true });
    await rm(join(project, "ok.cts"), { force: true });
    await writeFile(join(project, "bad.mts"), typed("eluu"));
    await writeFile(join(project, "bad.cts"), typed("eluu"));
    const r = await run(TSC, ["-p", "tsconfig.json"], { cwd: project });
    expect(r.status).not.toBe(0);
    const errors = r.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
    // one error per file, each about the misspelled name, none elsewhere
    expect(errors.filter((l) => l.startsWith("bad.mts(8,"))).toHaveLength(1);
    expect(errors.filter((l) => l.startsWith("bad.cts(8,"))).toHaveLength(1);
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toContain('"eluu"');
  });
});
