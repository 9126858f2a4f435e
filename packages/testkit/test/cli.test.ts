import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ConformanceReport } from "../src/conformance/types.js";
import { drelu, dsigmoid, elementwiseCase, relu, sigmoid, writeFiles } from "./fixtures.js";

// the CLI as users run it: the built dist/cli.js (turbo builds this package before its tests)
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

function cli(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the package first (cd packages/testkit && npx tsup)`);
  const env = { ...process.env };
  delete env.INIT_CWD;
  if (cwd) env.INIT_CWD = cwd;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const good = { cases: [elementwiseCase("relu/x", "relu", [-1, 0, 2], relu, drelu), elementwiseCase("sigmoid/x", "sigmoid", [-1, 3], sigmoid, dsigmoid)] };
const corrupted = structuredClone(good);
(corrupted.cases[1]!.y64 as number[])[0] = 0.5;

describe("neurite-conformance CLI", () => {
  it("exits 0 and prints a table per op and a summary when everything passes", () => {
    const { paths } = writeFiles({ "good.json": good });
    const r = cli(["--backend", "cpu", paths["good.json"]!]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^op\s+backend\s+pass\s+fail\s+unsupported\s+max abs err$/m);
    expect(r.stdout).toMatch(/^relu\s+cpu\s+1\s+0\s+0\s+\S+$/m);
    expect(r.stdout).toMatch(/^sigmoid\s+cpu\s+1\s+0\s+0\s+\S+$/m);
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
      [[], /no reference file given/],
      [["--backend", "gpu", paths["good.json"]!], /unknown backend "gpu": use cpu, wasm, all/],
      [["--frobnicate", paths["good.json"]!], /Unknown option '--frobnicate'/],
      [["--backend", "cpu", "/nonexistent/file.json"], /file not found: \/nonexistent\/file\.json/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/usage: neurite-conformance/);
    }
  });

  it("reports unknown ops as unsupported without failing the run", () => {
    const { paths } = writeFiles({ "mixed.json": { cases: [...good.cases, { ...good.cases[0], id: "rrelu/x", op: "rrelu" }] } });
    const r = cli(["--backend", "cpu", paths["mixed.json"]!]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^rrelu\s+cpu\s+0\s+0\s+1\s+-$/m);
    expect(r.stdout).toMatch(/- rrelu\/x \[cpu\] .*unknown op "rrelu"/);
  });
});
