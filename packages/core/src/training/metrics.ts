import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { describeValue } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";
import type { Tensor } from "../tensor/tensor.js";

/** A metric: a number computed from targets and predictions of a batch (values read back to JavaScript). */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => number;

export type MetricName = "accuracy" | "binaryAccuracy" | "categoricalAccuracy" | "sparseCategoricalAccuracy";
export type MetricSpec = MetricName | MetricFn;

/** Fraction of predictions on the right side of 0.5 (one probability per output). */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, threshold = 0.5): number {
  const t = yTrue.dataSync();
  const p = yPred.dataSync();
  if (t.length !== p.length) throw new ShapeError(`binaryAccuracy: targets ${fmtShape(yTrue.shape)} and predictions ${fmtShape(yPred.shape)} differ`);
  let right = 0;
  for (let i = 0; i < p.length; i++) if ((p[i]! > threshold ? 1 : 0) === (t[i]! > 0.5 ? 1 : 0)) right++;
  return p.length ? right / p.length : 0;
}

function argmaxRows(values: Float32Array, classes: number): Int32Array {
  const rows = values.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c]! > values[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of rows whose largest prediction is the class with the largest target (one-hot targets). */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): number {
  const classes = yPred.shape[yPred.rank - 1] ?? 1;
  if (yTrue.size !== yPred.size) throw new ShapeError(`categoricalAccuracy: targets ${fmtShape(yTrue.shape)} and predictions ${fmtShape(yPred.shape)} differ`);
  const t = argmaxRows(yTrue.dataSync(), classes);
  const p = argmaxRows(yPred.dataSync(), classes);
  let right = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) right++;
  return p.length ? right / p.length : 0;
}

/** Fraction of rows whose largest prediction is the integer label. */
export function sparseCategoricalAccuracy(labels: Tensor, yPred: Tensor): number {
  const classes = yPred.shape[yPred.rank - 1] ?? 1;
  if (labels.size * classes !== yPred.size) throw new ShapeError(`sparseCategoricalAccuracy: labels ${fmtShape(labels.shape)} do not fit predictions ${fmtShape(yPred.shape)}`);
  const t = labels.dataSync();
  const p = argmaxRows(yPred.dataSync(), classes);
  let right = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) right++;
  return p.length ? right / p.length : 0;
}

/** "accuracy" picks the variant from the shapes: one output → binary, labels → sparse, else categorical. */
export function accuracy(yTrue: Tensor, yPred: Tensor): number {
  const classes = yPred.shape[yPred.rank - 1] ?? 1;
  if (classes === 1) return binaryAccuracy(yTrue, yPred);
  if (yTrue.size * classes === yPred.size) return sparseCategoricalAccuracy(yTrue, yPred);
  return categoricalAccuracy(yTrue, yPred);
}

const METRICS: Record<MetricName, MetricFn> = {
  accuracy,
  binaryAccuracy: (t, p) => binaryAccuracy(t, p),
  categoricalAccuracy,
  sparseCategoricalAccuracy,
};

/** A metric by name ("did you mean" for a typo; own keys only, so "toString" is unknown) or a function. */
export function resolveMetric(spec: MetricSpec): { name: string; fn: MetricFn } {
  if (typeof spec === "function") return { name: spec.name || "metric", fn: spec };
  const names = Object.keys(METRICS);
  const usage = `use one of ${names.join(", ")} or a function (yTrue, yPred) => number`;
  if (typeof spec !== "string") throw new ArgumentError(`a metric must be a name or a function, got ${describeValue(spec)}; ${usage}`);
  if (!Object.hasOwn(METRICS, spec)) throw new ArgumentError(`unknown metric ${JSON.stringify(spec)}${didYouMean(spec, names)}; ${usage}`);
  return { name: spec, fn: METRICS[spec] };
}
