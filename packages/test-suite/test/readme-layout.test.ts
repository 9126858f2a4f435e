/**
 * Every package and app README has a "## Layout" section whose first fenced block matches the package's tree, so a
 * newcomer can trust it. The block's convention (one line per file or folder, like core's):
 *
 * ```
 * src/
 *   index.ts          the public API
 *   ops/              the ops (a folder with a description stands for every file under it)
 *   check/
 *     a.ts, a2.ts     names separated by ", " share one description
 *     b.ts            a description may wrap: a line indented to the description's column
 *                     continues it
 * scripts/make.py     a name may hold several folders
 * ```
 *
 * - An entry line starts with one or more names (a name ending in "/" is a folder); the rest is its description.
 *   A line indented at least as deep as the previous entry's description continues that description.
 * - A name is a path relative to its enclosing folder: the nearest earlier folder line indented less, or the
 *   package root for a line with no such folder.
 * - A description may mention files by name (`name.ts`, `name.mjs`, `name.py` …, starting with a lower-case letter):
 *   relative to the entry's folder or to the package root, they must exist too.
 *
 * Checked: (a) every name listed and every file mentioned exists, outside build output (dist/, out/, node_modules/
 * …); (b) every file under src/ is listed by name, or lies in a folder below src/ that is listed with a description.
 * The test reads only the repository's own files.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

/** The repository root: the nearest directory above this file holding `pnpm-workspace.yaml`. */
function repoRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}
const ROOT = repoRoot(fileURLToPath(import.meta.url));

/** Folders of build output or installed packages (the .gitignore's): never listed, never required. */
const GENERATED = new Set(["node_modules", "dist", "build", "build-debug", ".turbo", "coverage", "out", ".git"]);

/**
 * A file mentioned in a description: a lower-case name with a source or script extension, possibly with folders
 * before it (a capital first letter is a product, such as TensorFlow.js, not a file).
 */
const MENTIONED_FILE = /(?<![\w./-])((?:[\w.-]+\/)*[a-z_][\w.-]*\.(?:ts|mts|cts|js|mjs|cjs|py))(?![\w/-])/g;

/** One line of the block that names files or folders. */
interface LayoutEntry {
  /** 1-based line in the README. */
  readonly line: number;
  /** Paths relative to the package root, with "/" separators; folders end with "/". */
  readonly paths: readonly string[];
  /** The description, continuation lines joined with spaces; "" when there is none. */
  readonly description: string;
  /** Where the description's file mentions resolve first: the entry itself when it is a folder, else its folder. */
  readonly folder: string;
}

/** The "## Layout" section's first fenced block, as its line number and lines; undefined when there is none. */
function layoutBlock(markdown: string): { readonly start: number; readonly lines: readonly string[] } | undefined {
  const lines = markdown.split("\n");
  const heading = lines.findIndex((l) => /^## Layout\s*$/.test(l));
  if (heading < 0) return undefined;
  for (let i = heading + 1; i < lines.length && !/^## /.test(lines[i]!); i++) {
    if (!/^```/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) return undefined;
    return { start: i + 2, lines: lines.slice(i + 1, end) };
  }
  return undefined;
}

/** The entries of a Layout block (see the convention above); throws when the README has no block. */
function parseLayout(markdown: string): LayoutEntry[] {
  const block = layoutBlock(markdown);
  if (!block) throw new Error('no "## Layout" heading followed by a fenced block (```) before the next "## " heading');
  const entries: { line: number; paths: string[]; description: string[]; folder: string }[] = [];
  // open folders, innermost last: their indentation and path
  const folders: { indent: number; path: string }[] = [];
  let descriptionColumn: number | undefined;
  block.lines.forEach((text, k) => {
    if (text.trim() === "") return;
    const indent = text.length - text.trimStart().length;
    const last = entries.at(-1);
    if (last && descriptionColumn !== undefined && indent >= descriptionColumn) {
      last.description.push(text.trim());
      return;
    }
    while (folders.length > 0 && folders.at(-1)!.indent >= indent) folders.pop();
    const parent = folders.at(-1)?.path ?? "";
    // the names: the first token, and the next while a token ends with ","
    const tokens = /^(\s*)((?:\S+,\s+)*\S+)(\s*)(.*)$/.exec(text)!;
    const names = tokens[2]!.split(/,\s+/);
    const description = tokens[4]!.trim();
    descriptionColumn = description === "" ? undefined : tokens[1]!.length + tokens[2]!.length + tokens[3]!.length;
    const paths = names.map((n) => posix.join(parent, n));
    const ownFolder = paths.length === 1 && paths[0]!.endsWith("/") ? paths[0]! : parent;
    entries.push({ line: block.start + k, paths, description: description === "" ? [] : [description], folder: ownFolder });
    if (paths.length === 1 && paths[0]!.endsWith("/")) folders.push({ indent, path: paths[0]! });
  });
  return entries.map((e) => ({ line: e.line, paths: e.paths, description: e.description.join(" "), folder: e.folder }));
}

/** Every file of a package (paths relative to it, "/" separators), build output left out. */
function packageFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (GENERATED.has(entry.name)) continue;
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(path);
    }
  };
  walk("");
  return files.sort();
}

/** The problems of one README's Layout block against its package's files, each naming the fix; [] when it matches. */
function layoutProblems(readme: string, markdown: string, files: readonly string[]): string[] {
  let entries: LayoutEntry[];
  try {
    entries = parseLayout(markdown);
  } catch (error) {
    return [`${readme}: ${(error as Error).message}; add a "## Layout" section listing src/ (see core's README)`];
  }
  const fileSet = new Set(files);
  const folderSet = new Set(files.flatMap((f) => f.split("/").slice(0, -1).map((_, i, parts) => `${parts.slice(0, i + 1).join("/")}/`)));
  const exists = (path: string): boolean => (path.endsWith("/") ? folderSet.has(path) : fileSet.has(path));
  const generated = (path: string): boolean => path.split("/").some((part) => GENERATED.has(part));
  const problems: string[] = [];
  for (const entry of entries) {
    for (const path of entry.paths) {
      if (generated(path)) problems.push(`${readme}:${entry.line}: "${path}" is build output; remove the line (list sources only)`);
      else if (!exists(path)) {
        problems.push(`${readme}:${entry.line}: "${path}" is listed but is not in the package; remove the line or fix the name (a wrapped description continues at its description's column)`);
      }
    }
    for (const [, mention] of entry.description.matchAll(MENTIONED_FILE)) {
      const candidates = [posix.join(entry.folder, mention!), mention!];
      if (!candidates.some((c) => fileSet.has(c))) {
        problems.push(`${readme}:${entry.line}: the description mentions "${mention}", which is neither ${candidates[0]} nor ${candidates[1]}; fix or drop the name`);
      }
    }
  }
  const listedFiles = new Set(entries.flatMap((e) => e.paths));
  const describedFolders = entries.filter((e) => e.description !== "").flatMap((e) => e.paths).filter((p) => p.endsWith("/") && p.startsWith("src/") && p !== "src/");
  for (const file of files) {
    if (!file.startsWith("src/") || listedFiles.has(file) || describedFolders.some((f) => file.startsWith(f))) continue;
    const folder = posix.dirname(file);
    problems.push(`${readme}: ${file} is not in the Layout block; add a line "${posix.basename(file)}  <what it holds>" under ${folder}/, or describe ${folder === "src" ? "it" : `${folder}/`} on its folder's line`);
  }
  return problems;
}

/** The packages and apps: every folder of packages/ and apps/ with a package.json. */
function workspacePackages(): string[] {
  return ["packages", "apps"].flatMap((group) =>
    readdirSync(join(ROOT, group))
      .filter((name) => existsSync(join(ROOT, group, name, "package.json")) && statSync(join(ROOT, group, name)).isDirectory())
      .sort()
      .map((name) => `${group}/${name}`));
}

describe("the Layout checker", () => {
  const files = ["src/index.ts", "src/ops/add.ts", "src/ops/mul.ts", "src/check/a.ts", "src/check/b.ts", "scripts/make.py", "test/x.test.ts"];
  const readme = (block: string) => `# pkg\n\n## Layout\n\n\`\`\`\n${block}\n\`\`\`\n\n## Remarks\n`;
  const good = [
    "src/",
    "  index.ts          the public API",
    "  ops/              the ops: add.ts, mul.ts",
    "  check/",
    "    a.ts, b.ts      the checks, described once, with a description that wraps",
    "                    onto a second line mentioning scripts/make.py",
    "scripts/make.py     makes things for TensorFlow.js (a product, not a file)",
    "test/               the tests",
  ].join("\n");

  test("reads names, folders, shared and wrapped descriptions", () => {
    expect(parseLayout(readme(good))).toEqual([
      { line: 6, paths: ["src/"], description: "", folder: "src/" },
      { line: 7, paths: ["src/index.ts"], description: "the public API", folder: "src/" },
      { line: 8, paths: ["src/ops/"], description: "the ops: add.ts, mul.ts", folder: "src/ops/" },
      { line: 9, paths: ["src/check/"], description: "", folder: "src/check/" },
      { line: 10, paths: ["src/check/a.ts", "src/check/b.ts"], description: "the checks, described once, with a description that wraps onto a second line mentioning scripts/make.py", folder: "src/check/" },
      { line: 12, paths: ["scripts/make.py"], description: "makes things for TensorFlow.js (a product, not a file)", folder: "" },
      { line: 13, paths: ["test/"], description: "the tests", folder: "test/" },
    ]);
    expect(layoutProblems("pkg/README.md", readme(good), files)).toEqual([]);
  });

  test("fails on a stale name, a stale mention, an unlisted source file, build output and a missing section", () => {
    const stale = good.replace("  index.ts          the public API", "  main.ts           the public API").replace("mul.ts", "div.ts");
    expect(layoutProblems("pkg/README.md", readme(stale), files)).toEqual([
      'pkg/README.md:7: "src/main.ts" is listed but is not in the package; remove the line or fix the name (a wrapped description continues at its description\'s column)',
      'pkg/README.md:8: the description mentions "div.ts", which is neither src/ops/div.ts nor div.ts; fix or drop the name',
      'pkg/README.md: src/index.ts is not in the Layout block; add a line "index.ts  <what it holds>" under src/, or describe it on its folder\'s line',
    ]);
    const undescribed = good.replace("  ops/              the ops: add.ts, mul.ts", "  ops/");
    expect(layoutProblems("pkg/README.md", readme(undescribed), files)).toEqual([
      'pkg/README.md: src/ops/add.ts is not in the Layout block; add a line "add.ts  <what it holds>" under src/ops/, or describe src/ops/ on its folder\'s line',
      'pkg/README.md: src/ops/mul.ts is not in the Layout block; add a line "mul.ts  <what it holds>" under src/ops/, or describe src/ops/ on its folder\'s line',
    ]);
    // src/ itself, described, does not stand for its files: each top-level file and folder is named
    const wholeSrc = "src/   everything\ntest/  the tests";
    expect(layoutProblems("pkg/README.md", readme(wholeSrc), files)).toHaveLength(5);
    expect(layoutProblems("pkg/README.md", readme(`${good}\ndist/               the bundle`), files)).toEqual([
      'pkg/README.md:14: "dist/" is build output; remove the line (list sources only)',
    ]);
    // a wrapped line that starts left of the description's column is read as an entry, and its first word is not a file
    const badWrap = good.replace("                    onto a second", "            onto a second");
    expect(layoutProblems("pkg/README.md", readme(badWrap), files)).toContain(
      'pkg/README.md:11: "src/check/onto" is listed but is not in the package; remove the line or fix the name (a wrapped description continues at its description\'s column)',
    );
    expect(layoutProblems("pkg/README.md", "# pkg\n\n## Layout of things\n\n```\nsrc/\n```\n", files)).toEqual([
      'pkg/README.md: no "## Layout" heading followed by a fenced block (```) before the next "## " heading; add a "## Layout" section listing src/ (see core\'s README)',
    ]);
  });
});

describe("every package and app README's Layout block matches its tree", () => {
  const packages = workspacePackages();

  test("the workspace has packages and apps to check", () => {
    expect(packages).toContain("packages/core");
    expect(packages.filter((p) => p.startsWith("apps/")).length).toBeGreaterThan(0);
  });

  test.each(packages)("%s", (pkg) => {
    const readmePath = join(ROOT, pkg, "README.md");
    expect(existsSync(readmePath), `${pkg} has no README.md; write one with a "## Layout" section`).toBe(true);
    const problems = layoutProblems(`${pkg}/README.md`, readFileSync(readmePath, "utf8"), packageFiles(join(ROOT, pkg)));
    expect(problems).toEqual([]);
  });
});
