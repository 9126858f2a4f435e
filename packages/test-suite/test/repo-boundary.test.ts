/**
 * Tests and scripts never read outside the repository: a fresh clone, with nothing beside it, must pass the
 * README's test command. This guard scans every test, script and config file of the repository for paths that
 * leave it (a relative path climbing above the root, the shared reading material beside the checkout, absolute
 * paths of a developer's machine) and proves on synthetic lines that it can fail.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const HERE = fileURLToPath(import.meta.url);

/** The repository root: the nearest directory above this file holding `pnpm-workspace.yaml`. */
function repoRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}
const ROOT = repoRoot(HERE);

/** Directories that hold build output or installed packages, never sources. */
const GENERATED = new Set(["node_modules", "dist", "build", "build-debug", ".turbo", ".git", "coverage", "out"]);

/** Every file of the repository, as paths relative to the root with `/` separators (git's list when there is one). */
function repoFiles(root: string): string[] {
  try {
    // tracked files plus new ones not yet added (ignored ones excluded), so a new test is checked before its commit
    const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out.split("\0").filter((f) => f !== "" && existsSync(join(root, f)));
  } catch {
    // no git (an exported tarball): walk the tree instead
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (GENERATED.has(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) files.push(relative(root, path).split(sep).join("/"));
      }
    };
    walk(root);
    return files;
  }
}

/** Test files, scripts and the configs that run them: the files that must not read outside the repository. */
function isTestOrScript(file: string): boolean {
  if (file.startsWith("fixtures/") || file.endsWith(".md")) return false;
  const parts = file.split("/");
  const name = parts[parts.length - 1]!;
  const inScriptDir = parts.slice(0, -1).some((d) => ["test", "tests", "e2e", "scripts", ".ci", "__tests__"].includes(d));
  const isText = /\.(?:[cm]?[jt]sx?|json|ya?ml|sh|html)$/.test(name) || (parts[0] === ".ci" && !name.includes("."));
  const scriptName = /\.(?:test|spec|config)\.[cm]?[jt]sx?$/.test(name) || /\.(?:sh|mjs|cjs)$/.test(name) || ["package.json", "turbo.json"].includes(name);
  return isText && (inScriptDir || scriptName);
}

/**
 * Relative paths that start with `..` and are not part of a longer path (`a/../b`, `...spread`), with the number
 * of levels they climb.
 */
const CLIMB = /(?<![\w./$}-])\.\.(?:\/\.\.)*(?=\/|["'`\s),;:]|$)/g;
/** Names of places outside the repository, whatever the path that leads to them. */
const OUTSIDE: readonly (readonly [RegExp, string])[] = [
  [/shared\/reference/, "the shared reference values beside the checkout (use fixtures/reference)"],
  [/(?:^|[^\w.])\.\.\/shared(?:\/|\b)/, "the shared folder beside the checkout"],
  [/(?:^|["'`\s=(:])\/(?:work|home|Users|root)\//, "an absolute path of one machine"],
];

/**
 * The lines of `text` (the contents of `file`, a path relative to the repository root) that reach outside the
 * repository, each as `file:line: why`.
 */
function escapesIn(file: string, text: string): string[] {
  const depth = file.split("/").length - 1;
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    for (const [pattern, why] of OUTSIDE) if (pattern.test(line)) found.push(`${at}: ${why}: ${line.trim()}`);
    for (const m of line.matchAll(CLIMB)) {
      const levels = m[0].split("/").length;
      if (levels > depth) found.push(`${at}: "${m[0]}" climbs ${levels} levels from a file ${depth} below the root: ${line.trim()}`);
    }
  });
  return found;
}

describe("no test or script reads outside the repository", () => {
  it("the scan flags every kind of escape and passes paths that stay inside (proof that it can fail)", () => {
    const file = "packages/demo/test/demo.test.ts"; // three levels below the root
    const up = (n: number): string => Array.from({ length: n }, () => "..").join("/");
    const shared = ["shared", "reference"].join("/");
    const bad = [
      `const REF = new URL("${up(4)}/${shared}/activations.json", import.meta.url);`,
      `readFileSync("${up(4)}/elsewhere/data.json")`,
      `const p = "${up(3)}/${up(1)}";`,
      `readFileSync("/${["work", shared, "mlp.json"].join("/")}")`,
      `const home = "/${["home", "someone", "data.json"].join("/")}";`,
      `spawn("cat", ["${up(1)}/shared/x"])`,
    ];
    for (const line of bad) expect(escapesIn(file, line), line).not.toEqual([]);
    // the depth is the file's own: from .ci/, one level up is the root and two leave it
    expect(escapesIn(".ci/run", `cd "${up(1)}"`)).toEqual([]);
    expect(escapesIn(".ci/run", `cd "${up(2)}"`)).not.toEqual([]);
    const good = [
      `const REF = new URL("${up(3)}/fixtures/reference/activations.json", import.meta.url);`,
      `import { x } from "${up(2)}/testkit/src/index.js";`,
      `const args = [...rest, ...more];`,
      `cd "$(dirname "$0")/.."`,
      `const tmp = join(tmpdir(), "neurite");`,
      `const shape = [2, 3]; // see ${up(1)}/src`,
    ];
    for (const line of good) expect(escapesIn(file, line), line).toEqual([]);
  });

  it("picks test files, scripts and configs, not sources or fixtures", () => {
    expect(isTestOrScript("packages/core/test/expr.test.ts")).toBe(true);
    expect(isTestOrScript("packages/backend-wasm/e2e/run.mjs")).toBe(true);
    expect(isTestOrScript(".ci/run")).toBe(true);
    expect(isTestOrScript("packages/core/vitest.config.ts")).toBe(true);
    expect(isTestOrScript("package.json")).toBe(true);
    expect(isTestOrScript("packages/core/src/index.ts")).toBe(false);
    expect(isTestOrScript("fixtures/reference/mlp.json")).toBe(false);
    expect(isTestOrScript("packages/core/README.md")).toBe(false);
  });

  it("every test, script and config file of the repository stays inside it", () => {
    const files = repoFiles(ROOT).filter(isTestOrScript);
    // the scan must have something to scan: this file, the CI script and the tests of every package
    expect(files).toContain(relative(ROOT, HERE).split(sep).join("/"));
    expect(files).toContain(".ci/run");
    expect(files.length).toBeGreaterThan(50);
    const escapes = files.flatMap((f) => escapesIn(f, readFileSync(join(ROOT, f), "utf8")));
    expect(escapes).toEqual([]);
  });

  it("the reference values the tests read are in the repository", () => {
    for (const name of ["activations.json", "mlp.json", "README.md"]) expect(existsSync(join(ROOT, "fixtures", "reference", name)), name).toBe(true);
  });
});
