/** `fit`: the mini-batch training loop of a compiled model, with validation and callbacks. */
import { ArgumentError } from "../errors.js";
import { Random } from "../ops/random.js";
import { gather, slice } from "../ops/shape-ops.js";
import { Tensor } from "../tensor/tensor.js";
import { CALLBACK_HOOKS, type Callback, type Logs } from "../training/callbacks.js";
import { boolean, describeValue, field, finiteNumber, integer, readOptions } from "../validation/options.js";
import { checkBatch, checkSamples } from "./checks.js";

export interface FitOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Shuffle the samples each epoch (seeded by the model's seed); default true. */
  readonly shuffle?: boolean;
  /** Hold out this fraction of the samples (the last ones, before shuffling) for validation. */
  readonly validationSplit?: number;
  readonly validationData?: readonly [Tensor, Tensor];
  readonly callbacks?: readonly Callback[];
}

/** Per-epoch logs of a `fit`. */
export interface History {
  readonly epochs: number[];
  readonly history: Record<string, number[]>;
}

/** Array.isArray without narrowing readonly arrays to any[]. */
const isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

const FIT_OPTIONS = {
  epochs: integer(1),
  batchSize: integer(1),
  shuffle: boolean,
  validationSplit: finiteNumber({ min: 0, max: 1, minExclusive: true, maxExclusive: true, expected: "in (0, 1)" }),
  validationData: field<readonly [Tensor, Tensor]>("[x, y], a pair of tensors", (v) => isArray(v) && v.length === 2 && v.every((t) => t instanceof Tensor)),
  callbacks: field<readonly Callback[]>("an array of callbacks (objects with onEpochEnd, onBatchEnd, …)", (v) => isArray(v) && v.every((c) => c !== null && typeof c === "object")),
};

/** @internal what the training loop needs from a compiled model (a Sequential). */
export interface FitTarget {
  readonly inputShape: readonly number[] | undefined;
  readonly seed: number;
  stopTraining: boolean;
  trainOnBatch(x: Tensor, y: Tensor): Logs;
  /** trainOnBatch on rows [start, end) of x and y, without making them tensors where it can. */
  trainOnRows(x: Tensor, y: Tensor, start: number, end: number): Logs;
  evaluate(x: Tensor, y: Tensor): Logs;
}

/** @internal trains `model` for `epochs` over mini-batches; awaits every callback. */
export async function fitModel(model: FitTarget, x: Tensor, y: Tensor, options: FitOptions, requireCompiled: () => void): Promise<History> {
  const o = readOptions("fit", options, FIT_OPTIONS);
  requireCompiled();
  const { epochs = 1, batchSize = 32, shuffle = true, callbacks = [] } = o;
  callbacks.forEach((cb, i) => {
    for (const hook of CALLBACK_HOOKS) {
      const f: unknown = (cb as Readonly<Record<string, unknown>>)[hook];
      if (f !== undefined && typeof f !== "function") throw new ArgumentError(`fit: callbacks[${i}].${hook} must be a function, got ${describeValue(f)}`);
    }
  });
  checkBatch("fit", "x", x, model.inputShape);
  checkBatch("fit", "y", y, undefined);
  checkSamples("fit", x, y, true);
  let trainX = x;
  let trainY = y;
  let val = o.validationData;
  if (val) {
    checkBatch("fit", "validationData[0]", val[0], model.inputShape);
    checkBatch("fit", "validationData[1]", val[1], undefined);
    checkSamples("fit: validationData", val[0], val[1], true);
  }
  const owned: Tensor[] = [];
  if (o.validationSplit !== undefined) {
    const split = o.validationSplit;
    const nTrain = Math.floor(x.shape[0]! * (1 - split));
    if (nTrain === 0 || nTrain === x.shape[0]) {
      throw new ArgumentError(`fit: validationSplit ${split} of ${x.shape[0]} samples leaves no sample to ${nTrain === 0 ? "train on" : "validate on"}; choose a split that keeps at least one sample on each side`);
    }
    trainX = slice(x, 0, nTrain);
    trainY = slice(y, 0, nTrain);
    val = [slice(x, nTrain), slice(y, nTrain)];
    owned.push(trainX, trainY, ...val);
  }
  const n = trainX.shape[0]!;
  const batches = Math.ceil(n / batchSize);
  const shuffler = new Random(model.seed ^ 0x5a17);
  const history: History = { epochs: [], history: {} };
  model.stopTraining = false;
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.({ epochs, batches, samples: n });
    for (let epoch = 0; epoch < epochs && !model.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const order = shuffle ? shuffler.permutation(n) : undefined;
      const sums: Logs = {};
      // the epoch's order as one shuffled copy of the data: each batch is then a run of rows, which a compiled
      // step copies straight in (the same rows as gathering each batch)
      const epochX = order ? gather(trainX, order) : trainX;
      const epochY = order ? gather(trainY, order) : trainY;
      try {
        for (let b = 0; b < batches; b++) {
          const start = b * batchSize;
          const end = Math.min(n, start + batchSize);
          const logs = model.trainOnRows(epochX, epochY, start, end);
          for (const k in logs) sums[k] = (sums[k] ?? 0) + (logs[k]! * (end - start)) / n;
          for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
        }
      } finally {
        if (order) for (const t of [epochX, epochY]) t.dispose();
      }
      const epochLogs: Logs = { ...sums };
      if (val) for (const [k, v] of Object.entries(model.evaluate(val[0], val[1]))) epochLogs[`val${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
      history.epochs.push(epoch);
      for (const [k, v] of Object.entries(epochLogs)) (history.history[k] ??= []).push(v);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, epochLogs);
    }
    const last: Logs = Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v[v.length - 1]!]));
    for (const cb of callbacks) await cb.onTrainEnd?.(last);
  } finally {
    for (const t of owned) t.dispose();
  }
  return history;
}
