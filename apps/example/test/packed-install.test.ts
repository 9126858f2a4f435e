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
