/**
 * The TypeScript blocks of the project's Markdown (READMEs and docs/), as programs: every ```ts block is
 * compiled with strict tsc and run, so a stale example fails the suite. Markers, each an HTML comment on the
 * line(s) right before a block (invisible on GitHub):
 *
 * - `<!-- prelude: CODE -->`: CODE (TypeScript, may span lines) runs before the block, e.g. the imports and
 *   setup a short snippet leaves out;
 * - `<!-- docs-test: continues -->`: the block continues the file's previous ts block (its code, and that
 *   block's own prelude and continuations, come first), as a README's second snippet reuses the first one's model;
 * - `<!-- docs-test: no-run REASON -->`: compiled but not run; the reason is required (keep these rare).
 */
import { readFileSync } from "node:fs";

/** One ts block of a Markdown file, ready to be written as a module. */
export interface DocBlock {
  /** The Markdown file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The block's own code. */
  readonly code: string;
  /** The whole program: prelude, continued blocks, then the code. */
  readonly program: string;
  /** Why the block is only compiled, when it is marked `no-run`. */
  readonly noRun?: string;
}

const FENCE = /^```(ts|typescript)\s*$/;
const MARKER = /<!--\s*(prelude:|docs-test:)([\s\S]*?)-->\s*$/;

/** The ts blocks of one Markdown text; throws on a malformed marker (a marker must say what it means). */
export function docBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split("\n");
  const blocks: DocBlock[] = [];
  let previousProgram: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) {
      // skip other fenced blocks whole, so a ``` inside them is not taken for a ts fence
      if (/^```/.test(lines[i]!)) while (++i < lines.length && !/^```\s*$/.test(lines[i]!));
      continue;
    }
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !/^```\s*$/.test(lines[i]!)) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a ts block is not closed`);
    // the comments right above the fence (blank lines between them allowed), nearest last
    const markers: { kind: string; text: string }[] = [];
    let j = start - 1;
    while (j >= 0) {
      if (lines[j]!.trim() === "") { j--; continue; }
      // a comment may span lines: gather back to its opening
      let k = j;
      while (k >= 0 && !lines[k]!.includes("<!--")) k--;
      if (k < 0 || !lines[j]!.trimEnd().endsWith("-->")) break;
      const m = MARKER.exec(lines.slice(k, j + 1).join("\n").trim());
      if (!m) break;
      markers.unshift({ kind: m[1]!, text: m[2]!.trim() });
      j = k - 1;
    }
    let prelude = "";
    let continues = false;
    let noRun: string | undefined;
    for (const m of markers) {
      if (m.kind === "prelude:") prelude += `${m.text}\n`;
      else if (m.text === "continues") continues = true;
      else if (m.text.startsWith("no-run")) {
        noRun = m.text.slice("no-run".length).trim();
        if (noRun.length < 10) throw new Error(`${file}:${start + 1}: a no-run marker needs a reason ("<!-- docs-test: no-run because … -->")`);
      } else throw new Error(`${file}:${start + 1}: unknown marker "docs-test: ${m.text}" (known: continues, no-run REASON)`);
    }
    if (continues && previousProgram === undefined) throw new Error(`${file}:${start + 1}: "continues" but there is no ts block before it`);
    const code = body.join("\n");
    const program = `${continues ? `${previousProgram}\n` : ""}${prelude}${code}\n`;
    blocks.push({ file, line: start + 1, code, program, ...(noRun !== undefined ? { noRun } : {}) });
    previousProgram = program;
  }
  return blocks;
}

/** The ts blocks of the given Markdown files (paths relative to `root`). */
export function docBlocksOf(root: string, files: readonly string[]): DocBlock[] {
  return files.flatMap((f) => docBlocks(f, readFileSync(`${root}/${f}`, "utf8")));
}
