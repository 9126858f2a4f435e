/**
 * The Neurite example app: a guided tour of activation functions, and a `train` command for one configuration.
 * Run `neurite-example --help` (or `pnpm example --help` in the repository).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { FormulaError, NeuriteError, activations, editDistance, listBackends, parseFormula, use } from "@neurite/core";
import { activationProblem, formulaActivation } from "./formula.js";
import { quickFromEnv } from "./context.js";
import { DATASET_NAMES, type DatasetName } from "./datasets/index.js";
import { BACKENDS, type BackendName, CliError, registerPlugins } from "./setup.js";
import { PARTS, type RunOptions, runDigitsCommand, runTour, runTrain } from "./tour.js";
import { runExport } from "./export-onnx.js";
import { MAX_EXPORT_OPSET, MIN_EXPORT_OPSET } from "@neurite/onnx";

/** Exit status for a mistake in the command line (as most Unix tools do). */
const USAGE_EXIT = 2;

function positiveInt(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer.`);
    return n;
  };
}

function seed(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("The seed must be a non-negative integer.");
  return n;
}

function learningRate(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 10) throw new InvalidArgumentError("The learning rate must be a number in (0, 10], e.g. 0.01.");
  return n;
}

function layerSizes(value: string): number[] {
  const sizes = value.split(",").map((s) => s.trim());
  if (sizes.some((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 4096)) {
    throw new InvalidArgumentError("Give hidden layer sizes as positive integers separated by commas, e.g. 32,32.");
  }
  return sizes.map(Number);
}

/** An ONNX opset @neurite/onnx writes, checked before any training. */
function onnxOpset(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < MIN_EXPORT_OPSET || n > MAX_EXPORT_OPSET) {
    throw new InvalidArgumentError(`The opset must be an integer from ${MIN_EXPORT_OPSET} to ${MAX_EXPORT_OPSET} (default 17).`);
  }
  return n;
}

/** A registered activation name, or a formula over x (see formula.ts); checked here so the error is a usage error. */
function activationName(value: string): string {
  const problem = activationProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return value;
}

/** Collects each `--formula`, checked to parse (the message points at the problem with a caret). */
function collectFormula(value: string, previous: readonly string[]): string[] {
  try {
    parseFormula(value);
  } catch (e) {
    if (e instanceof FormulaError) throw new InvalidArgumentError(`Not a formula over x (e.g. "x*sigmoid(1.702*x)"):\n${e.message}`);
    throw e;
  }
  return [...previous, value];
}

interface CommonFlags {
  out: string;
  seed: number;
  backend: BackendName;
  quick: boolean;
}

function addCommon(cmd: Command, withQuick = true): Command {
  cmd
    .option("-o, --out <dir>", "folder for report.html, summary.json and figures/ (created if missing)", "out")
    .option("-s, --seed <n>", "seed for the data, the initial weights and the shuffling", seed, 1)
    .addOption(new Option("-b, --backend <name>", "compute backend").choices(BACKENDS).default("cpu"));
  if (withQuick) cmd.option("-q, --quick", "a shortened run (fewer points and epochs, < 30 s): for tests and a first look", quickFromEnv());
  return cmd;
}

function runOptions(flags: CommonFlags, command: string): RunOptions {
  return { out: flags.out, seed: flags.seed, quick: flags.quick, backend: flags.backend, command };
}

function unknownCommand(program: Command, name: string): CliError {
  const names = program.commands.map((c) => c.name()).filter((n) => n !== "help");
  const near = names.filter((n) => editDistance(n, name) <= 2);
  const hint = near.length ? ` Did you mean ${near.join(" or ")}?` : "";
  return new CliError(`unknown command "${name}".${hint} Commands: ${names.join(", ")} (run with --help for details).`, USAGE_EXIT);
}

/** Builds the command-line program (exported for tests; `main` runs it). */
export function buildProgram(): Command {
  const program = new Command()
    .name("neurite-example")
    .description(
      "A tour of activation functions with Neurite: trains small networks, prints a summary and writes an HTML " +
        "report (with every figure as SVG and PNG). Without a command it runs the whole tour (about a minute).",
    )
    .showHelpAfterError("(run with --help to see the commands and options)")
    .exitOverride()
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      "after",
      `
The tour and each part take:
  -o, --out <dir>       folder for report.html, summary.json and figures/ (default: "out")
  -s, --seed <n>        seed for the data, the initial weights and the shuffling (default: 1)
  -b, --backend <name>  compute backend: cpu or wasm (default: cpu)
  -q, --quick           a shortened run (fewer points and epochs), for tests and a first look
train also takes --activation, --dataset, --epochs, --lr, --hidden and --batch-size: see \`train --help\`.

Examples:
  neurite-example                                 the whole tour (about a minute), report in out/report.html
  neurite-example gallery                         only the activation gallery
  neurite-example train --activation elu --dataset iris --epochs 60
  neurite-example train --activation bentIdentity --lr 0.02 --out runs/bent
  neurite-example train --activation "x*sigmoid(1.702*x)"    a formula instead of a name
  neurite-example gallery --formula "x*tanh(log1p(exp(x)))"   draw your own formula beside the plugins
  neurite-example digits                          a small CNN on 8×8 handwritten digits: filters, confusion matrix`,
    );

  addCommon(
    program
      .command("tour", { isDefault: true })
      .description("run all six parts in order and write the report (the default command)")
      // a mistyped command arrives here as an argument of the default command: name it as such below
      .allowExcessArguments(true),
  ).action((flags: CommonFlags, cmd: Command) => {
    const [unknown] = cmd.args;
    if (unknown !== undefined) throw unknownCommand(program, unknown);
    return runTour(PARTS.map((p) => p.command), runOptions(flags, "tour"));
  });

  for (const part of PARTS) {
    const command = addCommon(program.command(part.command).description(`${part.description}; alone`));
    if (part.command === "gallery") {
      command.option("-f, --formula <text>", "also draw this formula over x, e.g. \"x*sigmoid(1.702*x)\" (repeatable)", collectFormula, []);
    }
    command.action((flags: CommonFlags & { formula?: string[] }) => {
      // typed-in formulas join the registry for this run, so the gallery draws them like any plugin
      const formulas = flags.formula ?? [];
      if (formulas.length) use(...formulas.map((text, i) => formulaActivation(text, formulas.length === 1 ? "formula" : `formula${i + 1}`)));
      return runTour([part.command], runOptions(flags, formulas.length ? `${part.command} ${formulas.map((f) => `--formula ${JSON.stringify(f)}`).join(" ")}` : part.command));
    });
  }

  addCommon(program.command("train").description("train one configuration and write its loss curve (and decision boundary for 2-D data)"), false)
    .option("-a, --activation <name>", "hidden-layer activation: any registered name (see the `activations` command), or a formula over x such as \"x*sigmoid(1.702*x)\"", activationName, "relu")
    .addOption(new Option("-d, --dataset <name>", "data set").choices(DATASET_NAMES).default("spirals"))
    .option("-e, --epochs <n>", "passes over the training data", positiveInt("The number of epochs"), 100)
    .option("-l, --lr <rate>", "Adam learning rate", learningRate, 0.01)
    .option("--hidden <sizes>", "hidden layer sizes, comma-separated", layerSizes, [32, 32])
    .option("--batch-size <n>", "samples per optimizer step", positiveInt("The batch size"), 32)
    .action((flags: CommonFlags & { activation: string; dataset: DatasetName; epochs: number; lr: number; hidden: number[]; batchSize: number }) =>
      runTrain(
        { activation: flags.activation, dataset: flags.dataset, epochs: flags.epochs, lr: flags.lr, hidden: flags.hidden, batchSize: flags.batchSize },
        runOptions({ ...flags, quick: false }, `train --activation ${flags.activation} --dataset ${flags.dataset} --epochs ${flags.epochs} --lr ${flags.lr}`),
      ),
    );

  addCommon(program.command("digits").description("train a small CNN (@neurite/layers-conv) on 8×8 handwritten digits: test accuracy, learned filters, confusion matrix"))
    .action((flags: CommonFlags) => runDigitsCommand(runOptions(flags, "digits")));

  program
    .command("export")
    .description("train the tour's Iris classifier and write it as an ONNX file (for ONNX Runtime)")
    .option("--out <file>", "the ONNX file to write", "model.onnx")
    .option("-s, --seed <n>", "seed for the data split and the initial weights", seed, 1)
    .option("--opset <n>", `ONNX opset, ${MIN_EXPORT_OPSET} to ${MAX_EXPORT_OPSET}`, onnxOpset, 17)
    .addOption(new Option("-b, --backend <name>", "compute backend").choices(BACKENDS).default("cpu"))
    .action((flags: { out: string; seed: number; opset: number; backend: BackendName }) => runExport(flags));

  program
    .command("activations")
    .description("list the registered activations (the four families and this app's plugin) and backends")
    .action(() => {
      for (const p of activations.list()) console.log(`${p.name.padEnd(14)} ${p.package.padEnd(30)} ${p.description}`);
      console.log(`\nbackends: ${listBackends().join(", ")}`);
    });

  return program;
}

/** Runs the CLI; returns the exit status instead of calling process.exit, so output is flushed. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  try {
    // registered before parsing, so that --activation can check the name against the registry
    registerPlugins();
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed the message (and the help hint); help and --version end normally
      return e.code === "commander.helpDisplayed" || e.code === "commander.help" || e.code === "commander.version" ? 0 : USAGE_EXIT;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof CliError) {
      console.error(`error: ${message}`);
      return e.exitCode;
    }
    const kind = e instanceof NeuriteError ? `${e.name}: ` : "";
    console.error(`error: ${kind}${message}`);
    if (process.env.NEURITE_DEBUG && e instanceof Error && e.stack) console.error(e.stack);
    else console.error("(set NEURITE_DEBUG=1 to see where it happened)");
    return 1;
  }
}

process.exitCode = await main();
