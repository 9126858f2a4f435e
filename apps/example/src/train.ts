import { type ActivationSpecLoose, type Callback, type LayerSpec, type Sequential, type Tensor, resolveActivation, sequential, tensor } from "@neurite/core";
import type { TourContext } from "./context.js";
import type { Dataset } from "./datasets/index.js";
import { pct } from "./html.js";

/** x as a [n, features] tensor, and y as [n, 1] class-1 indicators (binary) or [n] class indices (sparse). */
export function toTensors(d: Dataset, targets: "binary" | "sparse"): [Tensor, Tensor] {
  const x = tensor(d.x.map((r) => [...r]));
  const y = targets === "binary" ? tensor(d.labels.map((l) => [l])) : tensor(d.labels, [d.labels.length]);
  return [x, y];
}

/**
 * A multilayer perceptron: hidden dense layers with one activation, then an output layer
 * (one sigmoid unit for two classes, a softmax over the classes otherwise).
 */
export function mlp(inputs: number, hidden: readonly number[], activation: ActivationSpecLoose, classes: number, seed: number): Sequential {
  // a name chosen at run time: resolve it (unknown names fail here, listing the registered ones)
  const act = resolveActivation(activation);
  const layers: LayerSpec[] = hidden.map((units, i) =>
    i === 0 ? { type: "dense", units, activation: act, inputShape: [inputs] } : { type: "dense", units, activation: act },
  );
  layers.push(classes === 2 ? { type: "dense", units: 1, activation: "sigmoid" } : { type: "dense", units: classes, activation: "softmax" });
  return sequential(layers, { seed });
}

export interface TrainRequest {
  readonly part: string;
  readonly label: string;
  readonly dataset: string;
  readonly activation: string;
  /** A compiled model with an "accuracy" metric. */
  readonly model: Sequential;
  readonly train: readonly [Tensor, Tensor];
  /** Where accuracy is measured after training; default the training data. */
  readonly evaluate?: readonly [Tensor, Tensor];
  readonly epochs: number;
  readonly batchSize: number;
  readonly callbacks?: readonly Callback[];
}

export interface TrainResult {
  /** Mean training loss of each epoch. */
  readonly losses: readonly number[];
  readonly finalLoss: number;
  readonly accuracy: number;
  readonly msPerEpoch: number;
}

/** Trains with a progress bar, measures time per epoch, records the run for the summary. */
export async function trainRun(ctx: TourContext, r: TrainRequest): Promise<TrainResult> {
  const [x, y] = r.train;
  const batches = Math.ceil(x.shape[0]! / r.batchSize);
  const bar = ctx.progress.start(r.label, r.epochs, batches);
  const t0 = performance.now();
  const history = await r.model.fit(x, y, { epochs: r.epochs, batchSize: r.batchSize, callbacks: [bar.callback, ...(r.callbacks ?? [])] });
  const ms = performance.now() - t0;
  const [ex, ey] = r.evaluate ?? r.train;
  const logs = r.model.evaluate(ex, ey);
  const losses = history.history.loss ?? [];
  const result: TrainResult = {
    losses,
    finalLoss: losses[losses.length - 1] ?? Number.NaN,
    accuracy: logs.accuracy ?? Number.NaN,
    msPerEpoch: ms / r.epochs,
  };
  bar.finish(`loss ${result.finalLoss.toFixed(4)}  accuracy ${pct(result.accuracy).padStart(7)}  ${result.msPerEpoch.toFixed(1)} ms/epoch`);
  const { finalLoss, accuracy, msPerEpoch } = result;
  ctx.runs.push({ part: r.part, label: r.label, dataset: r.dataset, activation: r.activation, epochs: r.epochs, finalLoss, accuracy, msPerEpoch });
  return result;
}
