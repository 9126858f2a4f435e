/**
 * neurite-onnx export <saved-model-dir> <out.onnx> | import <in.onnx> <saved-model-dir> | check <model.onnx>
 *
 * The command-line face of {@link exportOnnx} and {@link importOnnx}. Exit codes: 0 done, 1 the model or file
 * cannot be converted (the reason is printed), 2 usage errors. Relative paths resolve against the directory
 * pnpm was run from (INIT_CWD), or the current directory.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BoundActivation, DEFAULT_MAX_MODEL_BYTES, NeuriteError, type Plugin, type Sequential, loadModelFromDir, saveModelToDir, setBackend, use } from "@neurite/core";
import { Command, CommanderError, Option } from "commander";
import { DEFAULT_OPSET, MAX_EXPORT_OPSET, MIN_EXPORT_OPSET, exportOnnx } from "./export.js";
import { onnxActivations } from "./formula-activation.js";
import { decodeOnnx, graphOperators, importOnnx } from "./import.js";

/** Where the CLI writes: stdout and stderr lines (tests capture them). */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

/** The first-party packages the CLI registers when they are installed, so saved models using them load. */
const OPTIONAL_PLUGINS = [
  "@neurite/backend-cpu", "@neurite/activations-relu", "@neurite/activations-sigmoid", "@neurite/activations-smooth", "@neurite/activations-softmax", "@neurite/layers-conv",
];

const PLUGIN_KINDS = new Set(["backend", "activation", "activation-family", "layer", "layer-family"]);

/** The plugins a module exports; a plugin that is also inside an exported family comes once, through the family. */
function pluginsOf(module: Record<string, unknown>): Plugin[] {
  const found = new Set<Plugin>();
  for (const value of Object.values(module)) {
    if (value && typeof value === "object" && PLUGIN_KINDS.has((value as { kind?: string }).kind ?? "")) found.add(value as Plugin);
  }
  const inFamilies = new Set<unknown>();
  for (const p of found) {
    const members = (p as { activations?: readonly unknown[]; layers?: readonly unknown[] }).activations ?? (p as { layers?: readonly unknown[] }).layers ?? [];
    for (const m of members) inFamilies.add(m);
  }
  return [...found].filter((p) => !inFamilies.has(p));
}

async function registerPlugins(modules: readonly string[], base: string, io: CliIo): Promise<void> {
  for (const name of OPTIONAL_PLUGINS) {
    try {
      use(...pluginsOf((await import(name)) as Record<string, unknown>));
    } catch {
      // not installed: models that need it say which package to install when they load
    }
  }
  use(onnxActivations);
  for (const m of modules) {
    const path = resolve(base, m);
    if (!existsSync(path)) throw new UsageError(`--plugin ${m}: file not found (${path})`);
    const plugins = pluginsOf((await import(pathToFileURL(path).href)) as Record<string, unknown>);
    if (plugins.length === 0) throw new UsageError(`--plugin ${m}: the module exports no Neurite plugin (activation, family, layer or backend)`);
    use(...plugins);
    io.out(`plugins from ${m}: ${plugins.map((p) => p.name).join(", ")}`);
  }
  try {
    await setBackend("cpu");
  } catch (e) {
    throw new UsageError(`no backend to run the model: ${(e as Error).message}`);
  }
}

function describeModel(model: Sequential): string {
  return model.layers.map((l) => {
    const act = l.config.activation as BoundActivation | undefined;
    const units = typeof l.config.units === "number" ? String(l.config.units) : "";
    const inner = [units, act && act.plugin.name !== "linear" ? act.plugin.name : ""].filter(Boolean).join(", ");
    return `${l.plugin.name}${inner ? `(${inner})` : ""}`;
  }).join(" → ");
}

function program(io: CliIo, base: string): Command {
  const cmd = new Command("neurite-onnx")
    .description("Export Neurite models to ONNX and import ONNX MLPs.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: () => {} })
    .showHelpAfterError();
  const plugin = () => new Option("--plugin <module>", "a JS module (ESM or CJS) exporting your activations or families; repeat for several").default([]).argParser((v: string, prev: string[]) => [...prev, v]);

  cmd.command("export")
    .description("write a saved model (a directory from saveModelToDir) as an ONNX file")
    .argument("<saved-model-dir>")
    .argument("<out.onnx>")
    .addOption(new Option("--opset <n>", `ONNX opset, ${MIN_EXPORT_OPSET} to ${MAX_EXPORT_OPSET}`).default(String(DEFAULT_OPSET)))
    .option("--no-exact-operators", "lower every activation from its formula, even where ONNX has its own operator")
    .addOption(plugin())
    .action(async (dir: string, out: string, opts: { opset: string; exactOperators: boolean; plugin: string[] }) => {
      const opset = Number(opts.opset);
      if (!Number.isInteger(opset)) throw new UsageError(`--opset must be an integer from ${MIN_EXPORT_OPSET} to ${MAX_EXPORT_OPSET}, got "${opts.opset}"`);
      const from = resolve(base, dir);
      if (!existsSync(from) || !statSync(from).isDirectory()) throw new UsageError(`no saved model at ${from}: give the directory saveModelToDir wrote (model.json + weights.bin)`);
      await registerPlugins(opts.plugin, base, io);
      const model = loadModelFromDir(from);
      try {
        const bytes = exportOnnx(model, { opset, exactOperators: opts.exactOperators });
        const to = resolve(base, out);
        mkdirSync(dirname(to), { recursive: true });
        writeFileSync(to, bytes);
        io.out(`wrote ${to} (${bytes.byteLength} bytes, opset ${opset}): ${describeModel(model)}`);
      } finally {
        model.dispose();
      }
    });

  cmd.command("import")
    .description("read an ONNX file and save it as a Neurite model directory")
    .argument("<in.onnx>")
    .argument("<saved-model-dir>")
    .addOption(plugin())
    .action(async (file: string, dir: string, opts: { plugin: string[] }) => {
      const bytes = readModelFile(resolve(base, file));
      await registerPlugins(opts.plugin, base, io);
      const model = importOnnx(bytes);
      try {
        const to = resolve(base, dir);
        saveModelToDir(model, to);
        io.out(`saved ${to}: ${describeModel(model)}`);
        if (model.layers.some((l) => (l.config.activation as BoundActivation | undefined)?.plugin.name === "onnxFormula")) {
          io.out("note: it uses onnxFormula activations; load it after use(onnxActivations) from @neurite/onnx");
        }
      } finally {
        model.dispose();
      }
    });

  cmd.command("check")
    .description("list the graph's operators, say which are supported, and whether the file imports")
    .argument("<model.onnx>")
    .addOption(plugin())
    .action(async (file: string, opts: { plugin: string[] }) => {
      const bytes = readModelFile(resolve(base, file));
      const proto = decodeOnnx(bytes);
      const opset = proto.opset_import?.find((o) => !o.domain || o.domain === "ai.onnx")?.version;
      io.out(`${file}: opset ${String(opset)}, producer ${proto.producer_name ?? "?"} ${proto.producer_version ?? ""}`.trimEnd());
      const counts = new Map<string, { count: number; supported: boolean; nodes: string[] }>();
      for (const o of graphOperators(proto)) {
        const c = counts.get(o.opType) ?? { count: 0, supported: o.supported, nodes: [] };
        c.count++;
        c.nodes.push(o.node);
        counts.set(o.opType, c);
      }
      for (const [op, c] of [...counts].sort((a, b) => a[0].localeCompare(b[0]))) {
        io.out(`  ${op.padEnd(20)} ×${String(c.count).padEnd(4)} ${c.supported ? "supported" : `NOT supported (${c.nodes.slice(0, 3).join(", ")}${c.nodes.length > 3 ? ", …" : ""})`}`);
      }
      await registerPlugins(opts.plugin, base, io);
      const model = importOnnx(bytes);
      io.out(`imports as: ${describeModel(model)}`);
      model.dispose();
    });
  return cmd;
}

function readModelFile(path: string): Uint8Array {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`file not found: ${path}`);
  const size = statSync(path).size;
  if (size > DEFAULT_MAX_MODEL_BYTES) throw new NeuriteError(`${path} holds ${size} bytes, more than the cap of ${DEFAULT_MAX_MODEL_BYTES}`);
  return readFileSync(path);
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = { out: (s) => console.log(s), err: (s) => console.error(s) }): Promise<number> {
  const base = process.env.INIT_CWD ?? process.cwd();
  const cmd = program(io, base);
  try {
    await cmd.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version") return 0;
      io.err(`neurite-onnx: ${e.message.replace(/^error: /, "")}`);
      io.err("usage: neurite-onnx export <saved-model-dir> <out.onnx> | import <in.onnx> <saved-model-dir> | check <model.onnx>  (--help for options)");
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`neurite-onnx: ${e.message}`);
      return 2;
    }
    if (e instanceof NeuriteError) {
      io.err(`neurite-onnx: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
