#!/usr/bin/env node
/**
 * neurite-conformance [--backend cpu|wasm|all] [--json OUT] FILE...
 *
 * Runs PyTorch reference files on Neurite's backends, prints a table per op and a summary line, and exits
 * 1 when any case fails (2 on usage errors). Relative paths resolve against the directory pnpm was run
 * from (INIT_CWD), or the current directory.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runConformance } from "./conformance/runner.js";
import { formatReport } from "./report.js";

const USAGE = `usage: neurite-conformance [--backend cpu|wasm|all] [--json OUT] FILE...

  FILE             reference files (activations.json, mlp.json or any file in their schema)
  --backend NAME   cpu, wasm or all (default all: every backend that loads); repeat or comma-separate for several
  --json OUT       also write the report { cases, summary } as JSON to OUT
  -h, --help       show this help`;

const BACKENDS = ["cpu", "wasm", "all"];

class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: [...argv],
        options: { backend: { type: "string", multiple: true }, json: { type: "string" }, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("no reference file given");
  const requested = (values.backend ?? ["all"]).flatMap((b) => b.split(",")).map((b) => b.trim()).filter(Boolean);
  const bad = requested.filter((b) => !BACKENDS.includes(b));
  if (bad.length) throw new UsageError(`unknown backend ${bad.map((b) => JSON.stringify(b)).join(", ")}: use ${BACKENDS.join(", ")}`);
  const base = process.env.INIT_CWD ?? process.cwd();
  const missing = positionals.filter((f) => !existsSync(resolve(base, f)));
  if (missing.length) throw new UsageError(`file not found: ${missing.join(", ")} (relative paths resolve against ${base})`);

  const report = await runConformance(positionals, { backends: requested.includes("all") ? "all" : requested, cwd: base });
  console.log(formatReport(report));
  if (values.json !== undefined) {
    const out = resolve(base, values.json);
    try {
      await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    } catch (e) {
      console.error(`neurite-conformance: cannot write ${out}: ${(e as Error).message}`);
      return 2;
    }
    console.log(`report written to ${out}`);
  }
  return report.summary.fail > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`neurite-conformance: ${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
