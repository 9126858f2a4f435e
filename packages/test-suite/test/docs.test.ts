/**
 * Docs that run: every ```ts block of the READMEs (root, packages/*, apps/*) and of docs/*.md is compiled by
 * strict tsc and run with Node (a block that imports vitest, a test file, runs under vitest), against the workspace's built packages. The blocks are written under this
 * package's gitignored out/docs/, where `@neurite/*` resolves from this package's dependencies. Markers
 * (prelude, continues, no-run) are described in src/doc-blocks.ts.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { type DocBlock, docBlocks, docBlocksOf } from "../src/doc-blocks.js";

const run = promisify(execFile);
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = join(PACKAGE_ROOT, "..", "..");
const OUT = join(PACKAGE_ROOT, "out", "docs");
const TSC = join(REPO, "node_modules", ".bin", "tsc");

/** The Markdown files whose ts blocks are checked, relative to the repository root. */
function markdownFiles(): string[] {
  const files = ["README.md"];
  for (const dir of ["packages", "apps"]) {
    for (const d of readdirSync(join(REPO, dir)).sort()) if (existsSync(join(REPO, dir, d, "README.md"))) files.push(`${dir}/${d}/README.md`);
  }
  if (existsSync(join(REPO, "docs"))) for (const f of readdirSync(join(REPO, "docs")).sort()) if (f.endsWith(".md")) files.push(`docs/${f}`);
  return files;
}

const blocks = docBlocksOf(REPO, markdownFiles());
const moduleName = (b: DocBlock) => `${b.file.replace(/[^A-Za-z0-9]+/g, "_")}_L${b.line}`;
const isolated = (b: DocBlock) => /^\s*declare module /m.test(b.program);
/** A block that imports vitest is a test file as a README shows one: it runs under vitest, as its reader would run it. */
const isVitest = (b: DocBlock) => /from "vitest"/.test(b.program);
const modulePath = (b: DocBlock) => `${isolated(b) ? "isolated" : "shared"}/${moduleName(b)}${isVitest(b) ? ".test" : ""}.ts`;
const VITEST = join(REPO, "node_modules", "vitest", "vitest.mjs");

describe("the markers of a Markdown block", () => {
  test("a prelude comes first, a continued block brings the one before it, no-run needs a reason", () => {
    const md = [
      "```ts", "const a = 1;", "```",
      "<!-- prelude: const b = 2; -->", "<!-- docs-test: continues -->", "```ts", "console.log(a + b);", "```",
      "```sh", "```ts inside sh is not a block", "```",
      "<!-- docs-test: no-run it opens a browser window -->", "```typescript", "openWindow();", "```",
    ].join("\n");
    const [first, second, third, ...rest] = docBlocks("x.md", md);
    expect(rest).toEqual([]);
    expect(first).toEqual({ file: "x.md", line: 1, code: "const a = 1;", program: "const a = 1;\n" });
    expect(second).toEqual({ file: "x.md", line: 6, code: "console.log(a + b);", program: "const a = 1;\n\nconst b = 2;\nconsole.log(a + b);\n" });
    expect(third?.noRun).toBe("it opens a browser window");
    expect(() => docBlocks("x.md", "<!-- docs-test: no-run -->\n```ts\nx;\n```")).toThrow("needs a reason");
    expect(() => docBlocks("x.md", "<!-- docs-test: continue -->\n```ts\nx;\n```")).toThrow('unknown marker "docs-test: continue"');
    expect(() => docBlocks("x.md", "<!-- docs-test: continues -->\n```ts\nx;\n```")).toThrow("no ts block before it");
  });
});

describe("every ts block of the READMEs and docs/", () => {
  let compileErrors = new Map<string, string[]>();

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(join(OUT, "src", "shared"), { recursive: true });
    mkdirSync(join(OUT, "src", "isolated"), { recursive: true });
    writeFileSync(join(OUT, "package.json"), JSON.stringify({ type: "module", private: true }));
    // a config of its own, so vitest does not find this package's (which includes only test/)
    writeFileSync(join(OUT, "vitest.config.mjs"), 'export default { test: { include: ["js/**/*.test.js"], testTimeout: 120000 } };\n');
    writeFileSync(join(OUT, "tsconfig.base.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", lib: ["ES2022", "DOM", "ESNext.Disposable"], module: "nodenext", moduleResolution: "nodenext",
        strict: true, noUncheckedIndexedAccess: true, skipLibCheck: true, types: ["node"], outDir: "js", rootDir: "src",
        noEmitOnError: false, typeRoots: [join(REPO, "node_modules", "@types")],
      },
    }, null, 2));
    // blocks are compiled together, except those that augment a module (`declare module`): an augmentation holds
    // for the whole program, and would let another block use a name its reader never declared
    const configs = ["tsconfig.json"];
    writeFileSync(join(OUT, "tsconfig.json"), JSON.stringify({ extends: "./tsconfig.base.json", include: ["src/shared"] }));
    for (const b of blocks) {
      // each block is a module of its own (`export {}` makes one of a block without imports)
      writeFileSync(join(OUT, "src", modulePath(b)), `${b.program}\nexport {};\n`);
      if (isolated(b)) {
        const config = `tsconfig.${moduleName(b)}.json`;
        writeFileSync(join(OUT, config), JSON.stringify({ extends: "./tsconfig.base.json", files: [`src/${modulePath(b)}`] }));
        configs.push(config);
      }
    }
    let output = "";
    for (const config of configs) {
      try {
        await run(TSC, ["-p", config, "--pretty", "false"], { cwd: OUT, maxBuffer: 1 << 26 });
      } catch (e) {
        output += (e as { stdout: string }).stdout;
      }
    }
    compileErrors = new Map();
    for (const l of output.split("\n").filter((x) => /error TS\d+/.test(x))) {
      const name = /^src\/(?:shared|isolated)\/([^.(]+)(?:\.test)?\.ts/.exec(l)?.[1] ?? "(config)";
      compileErrors.set(name, [...(compileErrors.get(name) ?? []), l]);
    }
  }, 300_000);

  test("there are blocks to check, from the root README and the guide", () => {
    expect(blocks.some((b) => b.file === "README.md")).toBe(true);
    expect(blocks.filter((b) => b.file === "docs/plugins.md").length).toBeGreaterThanOrEqual(5);
    expect(compileErrors.get("(config)")).toBeUndefined();
  });

  test.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))("%s compiles (strict) and runs", async (_where, b) => {
    expect(compileErrors.get(moduleName(b)) ?? [], `tsc errors in the block at ${b.file}:${b.line} (the program is out/docs/src/${modulePath(b)})`).toEqual([]);
    if (b.noRun !== undefined) return;
    const js = join(OUT, "js", modulePath(b).replace(/\.ts$/, ".js"));
    try {
      // a test file runs under vitest (rooted at out/docs, where no config applies); anything else with Node
      const args = isVitest(b) ? [VITEST, "run", "--root", OUT, "--config", join(OUT, "vitest.config.mjs"), js] : [js];
      await run(process.execPath, args, { cwd: OUT, timeout: 180_000, maxBuffer: 1 << 26 });
    } catch (e) {
      const err = e as { code?: number; stderr?: string };
      expect.fail(`the block at ${b.file}:${b.line} exited ${String(err.code)} when run:\n${err.stderr ?? String(e)}`);
    }
  });
});
