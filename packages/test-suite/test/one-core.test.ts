/**
 * One core per process: the built ESM and CJS files of @neurite/core (and two installed copies) share one set of
 * registries, one engine and one set of brands. Each scenario runs in a fresh Node process (a real app's
 * `import` + `require`), from scripts written under this package's gitignored `out/`.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(PACKAGE_ROOT, "out", "one-core");
const requireHere = createRequire(import.meta.url);
const CORE_ROOT = join(dirname(requireHere.resolve("@neurite/core")), "..");
const CORE_VERSION = (JSON.parse(readFileSync(join(CORE_ROOT, "package.json"), "utf8")) as { version: string }).version;

function runScript(name: string, source: string): { code: number; stdout: string; stderr: string } {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, name);
  writeFileSync(file, source);
  try {
    const stdout = execFileSync(process.execPath, [file], { cwd: PACKAGE_ROOT, encoding: "utf8", stdio: "pipe", timeout: 120_000 });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status: number | null; stdout: string; stderr: string };
    return { code: err.status ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Runs a script that prints one JSON line of results; fails with its stderr if it throws. */
function runJson(name: string, source: string): Record<string, unknown> {
  const r = runScript(name, source);
  if (r.code !== 0) throw new Error(`${name} exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

const PRELUDE = `
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const esm = await import("@neurite/core");
const cjs = require("@neurite/core");
const results = {};
const refused = (fn) => { try { fn(); return "accepted"; } catch (e) { return e instanceof esm.NeuriteError ? "refused" : "other: " + e; } };
`;

test("the ESM and CJS builds are two modules that share registries, engine and brands", () => {
  const r = runJson("esm-cjs.mjs", `${PRELUDE}
results.distinctModules = esm !== cjs && esm.Tensor !== cjs.Tensor && esm.use !== cjs.use;
results.copies = esm.loadedCoreCopies().map((c) => c.location.replace(/^file:\\/\\//, "").split("/").pop());
// a backend registered through the CJS build is the one the ESM build sets
const { cpuBackend } = require("@neurite/backend-cpu");
cjs.use(cpuBackend);
await esm.setBackend("cpu");
results.backendSeenByCjs = cjs.getBackend().name;
// an activation defined and registered through CJS, with an expression built by CJS, used by name through ESM
const cjsAct = cjs.defineActivation({
  name: "cjsScaledSilu", family: "custom", package: "one-core-test", version: "1.0.0", description: "x·σ(a·x)",
  params: { a: { default: 1.5, min: 0 } }, meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x, p) => x.mul(cjs.unary("sigmoid", x.mul(p.a))),
});
cjs.use(cjsAct);
results.activationSeenByEsm = esm.activations.has("cjsScaledSilu");
// expressions mix: an ESM formula over a CJS-built constant, a CJS formula over ESM-built nodes
const mixed = esm.defineActivation({
  name: "mixedSoftsign", family: "custom", package: "one-core-test", version: "1.0.0", description: "x/(1+|x|)",
  params: {}, meta: { range: [-1, 1], monotonic: true, smoothAtZero: false },
  formula: (x) => x.div(cjs.constant(1).add(esm.unary("abs", x))),
});
esm.use(mixed);
results.crossExpr = [cjs.constant(2) instanceof esm.Expr, esm.input(0) instanceof cjs.Expr];
// forged data is refused by both copies: an expression shaped object, and a bound activation made of plain data
const forgedExpr = { node: { kind: "const", value: 1 }, key: "1" };
results.forgedExprInstanceof = [forgedExpr instanceof esm.Expr, forgedExpr instanceof cjs.Expr];
results.forgedFormula = [esm, cjs].map((core) => refused(() => core.use(core.defineActivation({
  name: "forged", family: "custom", package: "x", version: "1.0.0", description: "d", params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true }, formula: () => forgedExpr,
}))));
results.forgedRegistered = esm.activations.has("forged");
// a bound activation made by one copy is trusted as is by the other (same object back); a forged one is rebound
const bound = cjs.bindActivation(cjsAct, { a: 2 });
results.boundKept = esm.resolveActivation(bound) === bound;
const forgedBound = { kind: "bound-activation", plugin: cjsAct, params: { a: -5 } };
results.forgedBound = refused(() => esm.resolveActivation(forgedBound));
// classes: instanceof across copies, and no false positives
const t = cjs.tensor([1, 2, 3]);
const v = new esm.Variable(esm.tensor([1]), "w");
results.instanceofs = {
  cjsTensorIsEsmTensor: t instanceof esm.Tensor,
  esmVariableIsCjsVariable: v instanceof cjs.Variable,
  esmVariableIsCjsTensor: v instanceof cjs.Tensor,
  cjsTensorIsEsmVariable: t instanceof esm.Variable,
  plainIsTensor: ({ shape: [3], size: 3 }) instanceof esm.Tensor,
};
try { cjs.activations.get("noSuchActivation"); } catch (e) {
  results.errors = { esmRegistryError: e instanceof esm.RegistryError, esmNeuriteError: e instanceof esm.NeuriteError, esmShapeError: e instanceof esm.ShapeError, nativeError: e instanceof Error };
}
// live-tensor accounting and scopes are one
const before = esm.memory().tensors;
const kept = esm.scope(() => { cjs.tensor([1]); esm.tensor([2]); return cjs.keep(cjs.tensor([3])); });
results.scopeLeak = esm.memory().tensors - before;
results.countsAgree = esm.memory().tensors === cjs.memory().tensors;
kept.dispose(); t.dispose(); v.dispose();
results.tensorIdsUnique = (() => { const a = cjs.tensor([1]); const b = esm.tensor([1]); const d = a.id !== b.id; a.dispose(); b.dispose(); return d; })();
// a tiny model that mixes them: ESM model, CJS-registered activation, CJS optimizer and data, saved by one, loaded by the other
const x = cjs.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = esm.tensor([[0], [1], [1], [0]]);
const model = esm.sequential([{ type: "dense", units: 8, activation: "cjsScaledSilu", inputShape: [2] }, { type: "dense", units: 1, activation: bound }], { seed: 3 });
model.compile({ optimizer: cjs.adam({ lr: 0.05 }), loss: "mse" });
const first = model.evaluate(x, y);
await model.fit(x, y, { epochs: 150, batchSize: 4 });
const last = model.evaluate(x, y);
results.loss = [typeof first === "number" ? first : first.loss, typeof last === "number" ? last : last.loss];
const saved = esm.saveModel(model);
const loaded = cjs.loadModel(saved);
const p1 = model.predict(x).dataSync(), p2 = loaded.predict(x).dataSync();
results.reloadedSame = p1.length === 4 && p1.every((value, i) => Object.is(value, p2[i]));
console.log(JSON.stringify(results));
`);
  expect(r.distinctModules).toBe(true);
  expect(r.copies).toEqual(["index.js", "index.cjs"]);
  expect(r.backendSeenByCjs).toBe("cpu");
  expect(r.activationSeenByEsm).toBe(true);
  expect(r.crossExpr).toEqual([true, true]);
  expect(r.forgedExprInstanceof).toEqual([false, false]);
  expect(r.forgedFormula).toEqual(["refused", "refused"]);
  expect(r.forgedRegistered).toBe(false);
  expect(r.boundKept).toBe(true);
  expect(r.forgedBound).toBe("refused");
  expect(r.instanceofs).toEqual({
    cjsTensorIsEsmTensor: true, esmVariableIsCjsVariable: true, esmVariableIsCjsTensor: true,
    cjsTensorIsEsmVariable: false, plainIsTensor: false,
  });
  expect(r.errors).toEqual({ esmRegistryError: true, esmNeuriteError: true, esmShapeError: false, nativeError: true });
  expect(r.scopeLeak).toBe(1);
  expect(r.countsAgree).toBe(true);
  expect(r.tensorIdsUnique).toBe(true);
  const [first, last] = r.loss as [number, number];
  expect(last).toBeLessThan(first / 4);
  expect(r.reloadedSame).toBe(true);
});

/** A second installed copy of core's build, at `version`, in out/ (resolving @neurite/catalog from the workspace). */
function installCopy(dir: string, version: string): string {
  const root = join(OUT, dir);
  rmSync(root, { recursive: true, force: true });
  const pkg = join(root, "node_modules", "@neurite", "core");
  mkdirSync(join(root, "node_modules", "@neurite"), { recursive: true });
  cpSync(join(CORE_ROOT, "dist"), join(pkg, "dist"), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(CORE_ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ ...manifest, version, dependencies: {} }));
  // the version is built into the files (browsers have no package.json to read): rebuild them "at" `version`
  for (const file of ["index.js", "index.cjs"]) {
    const path = join(pkg, "dist", file);
    const text = readFileSync(path, "utf8");
    expect(text).toContain(JSON.stringify(CORE_VERSION));
    writeFileSync(path, text.replaceAll(JSON.stringify(CORE_VERSION), JSON.stringify(version)));
  }
  symlinkSync(join(dirname(requireHere.resolve("@neurite/catalog")), ".."), join(root, "node_modules", "@neurite", "catalog"), "dir");
  return pkg;
}

function bump(version: string, part: "breaking" | "compatible"): string {
  const [major, minor, patch] = version.split(/[.-]/).map(Number) as [number, number, number];
  if (part === "breaking") return major === 0 ? `0.${minor + 1}.0` : `${major + 1}.0.0`;
  return major === 0 ? `0.${minor}.${patch + 7}` : `${major}.${minor + 1}.0`;
}

test("a second, incompatible copy of the core refuses to load, naming both versions and both paths", () => {
  const other = bump(CORE_VERSION, "breaking");
  const copy = installCopy("incompatible", other);
  for (const [name, load] of [["esm-first.mjs", `await import(${JSON.stringify(join(copy, "dist", "index.js"))})`], ["cjs-second.mjs", `require(${JSON.stringify(join(copy, "dist", "index.cjs"))})`]] as const) {
    const r = runScript(name, `
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ours = await import("@neurite/core");
try { ${load}; console.log("loaded"); } catch (e) { console.log(JSON.stringify({ message: e.message, copies: ours.loadedCoreCopies().length })); }
`);
    expect(r.code, r.stderr).toBe(0);
    const { message, copies } = JSON.parse(r.stdout.trim()) as { message: string; copies: number };
    expect(message).toContain(`two incompatible copies of @neurite/core are loaded in one process: ${CORE_VERSION} from `);
    expect(message).toContain(`${join(CORE_ROOT, "dist", "index.js")}`);
    expect(message).toContain(`and ${other} from `);
    expect(message).toContain(join(copy, "dist"));
    expect(message).toContain("npm ls @neurite/core");
    // the refused copy left the shared state as it was
    expect(copies).toBe(1);
  }
});

test("a second, compatible copy of the core shares the first one's registries", () => {
  const other = bump(CORE_VERSION, "compatible");
  const copy = installCopy("compatible", other);
  const r = runJson("compatible.mjs", `
const ours = await import("@neurite/core");
const theirs = await import(${JSON.stringify(join(copy, "dist", "index.js"))});
const { cpuBackend } = await import("@neurite/backend-cpu");
theirs.use(cpuBackend);
await ours.setBackend("cpu");
const t = theirs.tensor([1, 2]);
console.log(JSON.stringify({
  distinct: ours.use !== theirs.use,
  versions: ours.loadedCoreCopies().map((c) => c.version),
  backend: ours.getBackend().name,
  isTensor: t instanceof ours.Tensor,
  sum: ours.sum(t).item(),
}));
`);
  expect(r).toEqual({ distinct: true, versions: [CORE_VERSION, other], backend: "cpu", isTensor: true, sum: 3 });
});
