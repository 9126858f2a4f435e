import { ArgumentError } from "../errors.js";
import { describeValue, finiteNumber, integer, nonEmptyString, oneOf, readOptions } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";

/** Numbers logged during training: "loss", metrics, and "valLoss"/"valAccuracy"… with validation data. */
export type Logs = Record<string, number>;

/** What `fit` tells its callbacks when training begins. */
export interface TrainBegin {
  /** Epochs requested (training may stop earlier). */
  readonly epochs: number;
  /** Batches per epoch. */
  readonly batches: number;
  /** Training samples (after a validation split). */
  readonly samples: number;
}

/** Hooks called by `fit`. Each may be async; `fit` awaits it. Set `model.stopTraining = true` to stop. */
export interface Callback {
  onTrainBegin?(info: TrainBegin): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
}

/** What a progress callback reports after each batch. */
export interface Progress {
  readonly epoch: number;
  readonly epochs: number;
  readonly batch: number;
  readonly batches: number;
  readonly logs: Logs;
}

/** The hooks `fit` calls, for checking a callback object. */
export const CALLBACK_HOOKS = ["onTrainBegin", "onEpochBegin", "onBatchEnd", "onEpochEnd", "onTrainEnd"] as const;

const SIZES = { epochs: integer(1), batches: integer(1) };

/**
 * A callback that reports progress after every batch and epoch: what apps drive progress bars with.
 * `fit` tells it the number of epochs and batches; `sizes` is only needed when its hooks are called by hand.
 */
export function progressCallback(
  onProgress: (p: Progress & { readonly phase: "batch" | "epoch" }) => void,
  sizes?: { epochs?: number; batches?: number },
): Callback {
  if (typeof onProgress !== "function") throw new ArgumentError(`progressCallback: onProgress must be a function (progress) => void, got ${describeValue(onProgress)}`);
  const given = readOptions("progressCallback", sizes, SIZES);
  let epochs = given.epochs;
  let batches = given.batches;
  let epoch = 0;
  const known = (): { epochs: number; batches: number } => {
    if (epochs === undefined || batches === undefined) {
      throw new ArgumentError("progressCallback: the number of epochs and batches is unknown; pass it to fit({ callbacks }) or give progressCallback(fn, { epochs, batches })");
    }
    return { epochs, batches };
  };
  return {
    onTrainBegin: (info) => {
      epochs = info.epochs;
      batches = info.batches;
    },
    onEpochBegin: (e) => void (epoch = e),
    onBatchEnd: (batch, logs) => onProgress({ phase: "batch", epoch, ...known(), batch, logs }),
    onEpochEnd: (e, logs) => {
      const k = known();
      onProgress({ phase: "epoch", epoch: e, ...k, batch: k.batches - 1, logs });
    },
  };
}

export interface EarlyStoppingOptions {
  /** The logged quantity to watch; default "valLoss" (falls back to "loss" without validation data). */
  readonly monitor?: string;
  /** Epochs without improvement before stopping; default 0. */
  readonly patience?: number;
  /** The smallest change that counts as an improvement; default 0. */
  readonly minDelta?: number;
  /** "min" (losses) or "max" (accuracies); default from the name. */
  readonly mode?: "min" | "max";
}

const EARLY_STOPPING_OPTIONS = {
  monitor: nonEmptyString,
  patience: integer(0),
  minDelta: finiteNumber({ min: 0 }),
  mode: oneOf(["min", "max"] as const),
};

/** Stops `fit` when the monitored quantity stops improving. */
export function earlyStopping(model: { stopTraining: boolean }, options: EarlyStoppingOptions = {}): Callback & { readonly stoppedEpoch: number | undefined } {
  if (model === null || typeof model !== "object") throw new ArgumentError(`earlyStopping: model must be the model to stop (earlyStopping(model, options)), got ${describeValue(model)}`);
  const o = readOptions("earlyStopping", options, EARLY_STOPPING_OPTIONS);
  const patience = o.patience ?? 0;
  const minDelta = o.minDelta ?? 0;
  let best = NaN;
  let wait = 0;
  let stoppedEpoch: number | undefined;
  return {
    get stoppedEpoch() {
      return stoppedEpoch;
    },
    onTrainBegin: () => {
      best = NaN;
      wait = 0;
      stoppedEpoch = undefined;
    },
    onEpochEnd(epoch, logs) {
      const key = o.monitor ?? (Object.hasOwn(logs, "valLoss") ? "valLoss" : "loss");
      const value = Object.hasOwn(logs, key) ? logs[key] : undefined;
      if (value === undefined) throw new ArgumentError(`earlyStopping: monitored "${key}" is not logged${didYouMean(key, Object.keys(logs))} (logged: ${Object.keys(logs).join(", ")})`);
      const mode = o.mode ?? (/acc/i.test(key) ? "max" : "min");
      const improved = Number.isNaN(best) || (mode === "min" ? value < best - minDelta : value > best + minDelta);
      if (improved) {
        best = value;
        wait = 0;
      } else if (++wait > patience) {
        stoppedEpoch = epoch;
        model.stopTraining = true;
      }
    },
  };
}
