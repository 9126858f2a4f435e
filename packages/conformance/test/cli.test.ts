import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ConformanceReport } from "@neurite/testkit";
import { sigmoidRef } from "@neurite/test-support";
import { drelu, dsigmoid, elementwiseCase, relu, writeFiles } from "./fixtures.js";
import { squareplusFile } from "./fixtures/squareplus-reference.mjs";

// the CLI as users run it: the built dist/cli.js (turbo builds this package before its tests)
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function cli(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the package first (cd packages/conformance && npx tsup)`);
  const env = { ...process.env };
  delete env.INIT_CWD;
  if (cwd) env.INIT_CWD = cwd;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const good = { cases: [elementwiseCase("relu/x", "relu", [-1, 0, 2], relu, drelu), elementwiseCase("sigmoid/x", "sigmoid", [-1, 3], sigmoidRef, dsigmoid)] };
const corrupted = structuredClone(good);
(corrupted.cases[1]!.y64 as number[])[0] = 0.5;

describe("conformance CLI", () => {
  it("exits 0 and prints a table per op and a summary when everything passes", () => {
    const { paths } = writeFiles({ "good.json": good });
    const r = cli(["--backend", "cpu", paths["good.json"]!]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^op\s+backend\s+pass\s+fail\s+unsupported\s+max abs err\s+max rel err$/m);
    expect(r.stdout).toMatch(/^relu\s+cpu\s+1\s+0\s+0\s+\S+\s+\S+$/m);
    expect(r.stdout).toMatch(/^sigmoid\s+cpu\s+1\s+0\s+0\s+\S+\s+\S+$/m);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("conformance: 2 results, 2 pass, 0 fail, 0 unsupported; backends: cpu");
  });

  it("exits 1 when a case fails, listing it, and writes the JSON report with --json", () => {
    const { dir } = writeFiles({ "bad.json": corrupted });
    const r = cli(["--backend", "cpu", "--json", "report.json", "bad.json"], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ sigmoid\/x \[cpu\] \(bad\.json\): y: 1 of 2 values off; at \[0\] x=-1 expected 0\.5, got 0\.26894143/);
    const report = JSON.parse(readFileSync(`${dir}/report.json`, "utf8")) as ConformanceReport;
    expect(report.summary).toEqual({ pass: 1, fail: 1, unsupported: 0 });
    expect(report.cases.map((c) => [c.id, c.status])).toEqual([["relu/x", "pass"], ["sigmoid/x", "fail"]]);
  });

  it("resolves relative paths against INIT_CWD (the directory pnpm was run from)", () => {
    const { dir } = writeFiles({ "good.json": good });
    expect(cli(["--backend", "cpu", "good.json"], dir).status).toBe(0);
  });

  it("exits 2 with a clear message on usage errors", () => {
    const { paths } = writeFiles({ "good.json": good });
    const cases: [string[], RegExp][] = [
      [[], /missing required argument 'FILE'/],
      [["--backend", "gpu", paths["good.json"]!], /unknown backend "gpu": use cpu, wasm, all/],
      [["--frobnicate", paths["good.json"]!], /unknown option '--frobnicate'/],
      [["--backend", "cpu", "/nonexistent/file.json"], /file not found: \/nonexistent\/file\.json/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/Usage: conformance \[options\] <FILE\.\.\.>/);
    }
  });

  it("exits 1 when a case is unsupported (an unknown op), 0 with --allow-unsupported", () => {
    const { paths } = writeFiles({ "mixed.json": { cases: [...good.cases, { ...good.cases[0], id: "rrelu/x", op: "rrelu" }] } });
    const r = cli(["--backend", "cpu", paths["mixed.json"]!]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^rrelu\s+cpu\s+0\s+0\s+1\s+-\s+-$/m);
    expect(r.stdout).toMatch(/- rrelu\/x \[cpu\] .*unknown op "rrelu"/);
    expect(r.stderr).toMatch(/1 case\(s\) unsupported .*--plugin.*--allow-unsupported/);
    expect(cli(["--backend", "cpu", "--allow-unsupported", paths["mixed.json"]!]).status).toBe(0);
  });

  it("reports absolute and relative error separately: 5e28 off 3e38 reads as a pass", () => {
    const x = 3e38;
    const y = Math.fround(x); // relu: the float32 input itself; the reference is 5e28 above it (within rtol 1e-6)
    const { paths } = writeFiles({ "big.json": { cases: [{ id: "relu/big", op: "relu", kind: "elementwise", params: {}, shape: [1], x: [y], y64: [y + 5e28] }] } });
    const r = cli(["--backend", "cpu", paths["big.json"]!]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^relu\s+cpu\s+1\s+0\s+0\s+5\.00e\+28\s+1\.67e-10$/m);
  });
});

describe("conformance --plugin", () => {
  const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
  const SQUAREPLUS = `${FIXTURES}squareplus.json`;

  it("the committed squareplus.json is its generator's float64 output", () => {
    expect(JSON.parse(readFileSync(SQUAREPLUS, "utf8"))).toEqual(JSON.parse(JSON.stringify(squareplusFile())));
  });

  it("without the plugin, squareplus is unsupported and the run exits 1", () => {
    const r = cli(["--backend", "cpu", SQUAREPLUS]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/unknown op "squareplus": neither one of PyTorch.s .* nor a registered activation; register the plugin that provides it \(conformance --plugin MODULE\)/);
  });

  it("loads an ESM module exporting an activation, and checks its op on cpu", () => {
    const r = cli(["--backend", "cpu", "--plugin", "squareplus-plugin.mjs", "squareplus.json"], FIXTURES);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/plugins from .*squareplus-plugin\.mjs: activation squareplus/);
    expect(r.stdout).toMatch(/^squareplus\s+cpu\s+2\s+0\s+0\s+\S+\s+\S+$/m);
  });

  it("loads a CommonJS module exporting a family", () => {
    const r = cli(["--backend", "cpu", "--plugin", `${FIXTURES}squareplus-plugin.cjs`, SQUAREPLUS]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/plugins from .*squareplus-plugin\.cjs: activation-family my-activations/);
    expect(r.stdout).toMatch(/^squareplus\s+cpu\s+2\s+0\s+0/m);
  });

  it("registers a family and its exported member once", () => {
    const r = cli(["--backend", "cpu", "--plugin", `${FIXTURES}squareplus-family.mjs`, SQUAREPLUS]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/plugins from .*squareplus-family\.mjs: activation-family my-activations\n/);
  });

  it("fails a plugin whose formula is wrong, naming the value", () => {
    const { dir } = writeFiles({});
    writeFileSync(`${dir}/wrong.mjs`, readFileSync(`${FIXTURES}squareplus-plugin.mjs`, "utf8").replace("x.add(x.square()", "x.add(x.mul(1.001).square()"));
    symlinkSync(join(FIXTURES, "../../node_modules"), join(dir, "node_modules"));
    const r = cli(["--backend", "cpu", "--plugin", "wrong.mjs", SQUAREPLUS], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ squareplus\[b=4\]\/grid \[cpu\] .*y: \d+ of 13 values off/);
  });

  it("exits 2 on a module that is missing or exports no plugin, registering nothing", () => {
    const { dir } = writeFiles({});
    writeFileSync(`${dir}/empty.mjs`, "export const answer = 42;\n");
    const missing = cli(["--backend", "cpu", "--plugin", "nope.mjs", SQUAREPLUS], dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--plugin nope\.mjs: no such file/);
    const empty = cli(["--backend", "cpu", "--plugin", "empty.mjs", SQUAREPLUS], dir);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/--plugin empty\.mjs: the module exports no Neurite plugin \(it exports answer\); export activations made with defineActivation/);
  });
});
