#!/usr/bin/env node
/**
 * conformance [--backend cpu|wasm|all] [--plugin MODULE]... [--allow-unsupported] [--json OUT] FILE...
 *
 * Runs PyTorch reference files on Neurite's backends, prints a table per op and a summary line. Exits 1
 * when any case fails or is unsupported (unless --allow-unsupported), 2 on usage errors. Relative paths
 * resolve against the directory pnpm was run from (INIT_CWD), or the current directory.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { loadPlugins } from "./plugins.js";
import { formatReport } from "./report.js";
import { runConformance } from "./runner.js";

const BACKENDS = ["cpu", "wasm", "all"];

class UsageError extends Error {}

interface CliOptions {
  readonly backend: string[];
  readonly plugin: string[];
  readonly json?: string;
  readonly allowUnsupported?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function program(): Command {
  return new Command("conformance")
    .description("Check Neurite's backends and your own plugins against PyTorch reference files (activations.json, mlp.json or any file in their schema).")
    .argument("<FILE...>", "reference files")
    .addOption(new Option("--backend <name>", "cpu, wasm or all (every backend that loads); repeat or comma-separate for several").default([], "all").argParser(collect))
    .addOption(new Option("--plugin <module>", "an ESM or CommonJS module exporting activations or families to register first; repeat for several").default([], "none").argParser(collect))
    .option("--allow-unsupported", "exit 0 even when some cases are unsupported (an op or field this runner cannot check)")
    .option("--json <out>", "also write the report { cases, summary } as JSON to OUT")
    .exitOverride()
    .configureOutput({ writeErr: () => {} })
    .showHelpAfterError();
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = program();
  try {
    cmd.parse([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError && (e.code === "commander.helpDisplayed" || e.code === "commander.help")) {
      console.log(cmd.helpInformation());
      return 0;
    }
    throw new UsageError(e instanceof Error ? e.message.replace(/^error: /, "") : String(e));
  }
  const options = cmd.opts<CliOptions>();
  const files = cmd.args;
  const requested = (options.backend.length ? options.backend : ["all"]).flatMap((b) => b.split(",")).map((b) => b.trim()).filter(Boolean);
  const bad = requested.filter((b) => !BACKENDS.includes(b));
  if (bad.length) throw new UsageError(`unknown backend ${bad.map((b) => JSON.stringify(b)).join(", ")}: use ${BACKENDS.join(", ")}`);
  const base = process.env.INIT_CWD ?? process.cwd();
  const missing = files.filter((f) => !existsSync(resolve(base, f)));
  if (missing.length) throw new UsageError(`file not found: ${missing.join(", ")} (relative paths resolve against ${base})`);
  try {
    const loaded = await loadPlugins(options.plugin, base);
    for (const m of loaded.modules) console.log(`plugins from ${m.path}: ${m.plugins.join(", ")}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }

  const report = await runConformance(files, { backends: requested.includes("all") ? "all" : requested, cwd: base });
  console.log(formatReport(report));
  if (options.json !== undefined) {
    const out = resolve(base, options.json);
    try {
      await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    } catch (e) {
      console.error(`conformance: cannot write ${out}: ${(e as Error).message}`);
      return 2;
    }
    console.log(`report written to ${out}`);
  }
  if (report.summary.fail > 0) return 1;
  if (report.summary.unsupported > 0 && !options.allowUnsupported) {
    console.error(`conformance: ${report.summary.unsupported} case(s) unsupported (listed above); register the ops with --plugin, or pass --allow-unsupported to accept them`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`conformance: ${e.message}\n\n${program().helpInformation()}`);
      process.exitCode = 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
