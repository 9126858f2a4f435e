import { resolve } from "node:path";
import { activations } from "@neurite/core";
import type { PartResult, TourContext } from "./context.js";
import { runDeadRelus } from "./parts/dead-relus.js";
import { runDigits } from "./parts/digits.js";
import { runGallery } from "./parts/gallery.js";
import { runNonlinearity } from "./parts/nonlinearity.js";
import { runShootout } from "./parts/shootout.js";
import { runSoftmax } from "./parts/softmax.js";
import { type TrainOptions, runTrainOne } from "./parts/train-one.js";
import { runVanishing } from "./parts/vanishing.js";
import { ProgressReporter } from "./progress.js";
import { type BackendName, setup } from "./setup.js";

/** A part of the tour: its command name, what it shows, and how to run it. */
export interface PartEntry {
  readonly command: string;
  readonly description: string;
  readonly run: (ctx: TourContext) => PartResult | Promise<PartResult>;
}

/** The six parts, in the tour's order. */
export const PARTS: readonly PartEntry[] = [
  { command: "nonlinearity", description: "1. why non-linearity: identity vs ReLU on two spirals, and the collapsed linear map", run: runNonlinearity },
  { command: "gallery", description: "2. every registered activation and its derivative over [−6, 6]", run: runGallery },
  { command: "shootout", description: "3. sigmoid, tanh, relu, leakyRelu, elu, gelu and bentIdentity on the same task", run: runShootout },
  { command: "vanishing", description: "4. vanishing gradients: per-layer gradient norms of a 10-layer sigmoid vs ReLU network", run: runVanishing },
  { command: "dead-relus", description: "5. dead units at a high learning rate: relu vs leakyRelu and elu", run: runDeadRelus },
  { command: "softmax", description: "6. softmax as confidence: an Iris classifier's class probabilities", run: runSoftmax },
];

export interface RunOptions {
  readonly out: string;
  readonly seed: number;
  readonly quick: boolean;
  readonly backend: BackendName;
  /** How the run was asked for, for the report ("tour", "train --activation elu"). */
  readonly command: string;
}

async function runAndReport(o: RunOptions, body: (ctx: TourContext) => Promise<PartResult[]>): Promise<void> {
  const t0 = performance.now();
  await setup(o.backend);
  const progress = new ProgressReporter();
  const ctx: TourContext = { seed: o.seed, quick: o.quick, backend: o.backend, progress, runs: [] };
  progress.line(`Neurite example: ${o.command} (backend ${o.backend}, seed ${o.seed}${o.quick ? ", quick" : ""})`);
  const parts = await body(ctx);
  // loaded only now: the plotting libraries take a while to load, and usage errors and --help should not wait
  const { textSummary, writeReport } = await import("./report.js");
  const out = resolve(o.out);
  progress.line("\nWriting the report and figures…");
  const info = {
    command: o.command, seed: o.seed, quick: o.quick, backend: o.backend, seconds: 0,
    activations: activations.names(), node: process.versions.node,
  };
  // the report states the time up to drawing; the terminal summary the whole run
  const files = await writeReport(out, parts, ctx.runs, { ...info, seconds: (performance.now() - t0) / 1000 });
  const seconds = (performance.now() - t0) / 1000;
  progress.line(textSummary(parts, ctx.runs, { ...info, seconds }));
  progress.line(`Report: ${files[0]} (${files.length - 2} figure files in ${resolve(out, "figures")}; numbers in ${files[1]})`);
}

/** Runs some parts of the tour (all six for `tour`) and writes the report. */
export async function runTour(commands: readonly string[], o: RunOptions): Promise<void> {
  await runAndReport(o, async (ctx) => {
    const results: PartResult[] = [];
    for (const p of PARTS.filter((e) => commands.includes(e.command))) results.push(await p.run(ctx));
    return results;
  });
}

/** Trains the digits CNN (`digits`) and writes its report: first-layer filters and the confusion matrix. */
export async function runDigitsCommand(o: RunOptions): Promise<void> {
  await runAndReport(o, async (ctx) => [await runDigits(ctx)]);
}

/** Trains one configuration and writes its report. */
export async function runTrain(t: TrainOptions, o: RunOptions): Promise<void> {
  await runAndReport(o, async (ctx) => [await runTrainOne(ctx, t)]);
}
