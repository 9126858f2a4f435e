import { adam, resolveActivation } from "@neurite/core";
import { boundaryChart, lineChart } from "../plot/charts.js";
import type { Figure, PartResult, TourContext } from "../context.js";
import { type DatasetName, irisSplit, loadDataset } from "../datasets/index.js";
import { esc, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";
import { boundaryData } from "./nonlinearity.js";
import { activationFromArgument } from "../formula.js";

export interface TrainOptions {
  readonly activation: string;
  readonly dataset: DatasetName;
  readonly epochs: number;
  readonly lr: number;
  readonly hidden: readonly number[];
  readonly batchSize: number;
}

/** `train`: one configuration, with its loss curve and (for 2-D data) its decision boundary. */
export async function runTrainOne(ctx: TourContext, o: TrainOptions): Promise<PartResult> {
  // a registered name, or a formula typed on the command line (checked when the option was parsed)
  const act = resolveActivation(activationFromArgument(o.activation));
  const title = `Training ${o.activation} on ${o.dataset}`;
  ctx.progress.line(`\n${title}`);
  const iris = o.dataset === "iris" ? irisSplit(ctx.seed, 10) : undefined;
  const data = iris ? iris.train : loadDataset(o.dataset, ctx.seed);
  const classes = data.classes.length;
  const targets = classes === 2 ? "binary" : "sparse";
  const train = toTensors(data, targets);
  const test = iris ? toTensors(iris.test, targets) : undefined;
  const model = mlp(data.x[0]!.length, o.hidden, act, classes, ctx.seed);
  model.compile({
    optimizer: adam({ lr: o.lr }),
    loss: classes === 2 ? "binaryCrossEntropy" : "sparseCategoricalCrossEntropy",
    metrics: ["accuracy"],
  });
  const label = `${o.activation} on ${o.dataset}`;
  const r = await trainRun(ctx, { part: "train", label, dataset: o.dataset, activation: o.activation, model, train, ...(test ? { evaluate: test } : {}), epochs: o.epochs, batchSize: o.batchSize });
  const figures: Figure[] = [
    {
      id: "train-loss",
      title: "Loss curve",
      caption: `Mean training loss per epoch: ${label}, Adam lr ${o.lr}, seed ${ctx.seed}.`,
      spec: lineChart(r.losses.map((y, e) => ({ series: o.activation, x: e + 1, y })), { title: `Training loss: ${label}`, xTitle: "epoch", yTitle: "loss", logY: true, seriesTitle: "activation" }),
    },
  ];
  if (data.x[0]!.length === 2 && classes === 2) {
    figures.push({
      id: "train-boundary",
      title: "Decision boundary",
      caption: `P(class 1) over the plane after training, with the ${data.x.length} training points.`,
      spec: boundaryChart(boundaryData(model, data), label, `accuracy ${pct(r.accuracy)}`),
    });
  }
  const where = test ? `the ${iris!.test.x.length} held-out flowers` : `the ${data.x.length} training points`;
  const html = `
<pre>${esc(model.summary())}</pre>
<p>Activation <code>${esc(o.activation)}</code> from <code>${esc(act.plugin.package)}</code> (${esc(act.plugin.description)}),
hidden layers ${o.hidden.join(" → ")}, Adam lr ${o.lr}, ${o.epochs} epochs, batches of ${o.batchSize}, seed ${ctx.seed}:
final loss ${num(r.finalLoss, 4)}, accuracy on ${where} <b>${pct(r.accuracy)}</b>, ${r.msPerEpoch.toFixed(1)} ms per epoch.</p>`;
  model.dispose();
  for (const t of [...train, ...(test ?? [])]) t.dispose();
  return {
    id: "train",
    title,
    html,
    figures,
    findings: { ...o, hidden: [...o.hidden], finalLoss: r.finalLoss, accuracy: r.accuracy, msPerEpoch: r.msPerEpoch, losses: r.losses },
    highlights: [`loss ${num(r.finalLoss, 4)}, accuracy ${pct(r.accuracy)} on ${where}`],
  };
}
