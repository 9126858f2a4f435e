import { ArgumentError } from "../errors.js";

/** Numbers logged during training: "loss", metrics, and "valLoss"/"valAccuracy"… with validation data. */
export type Logs = Record<string, number>;

/** Hooks called by `fit`. Each may be async; `fit` awaits it. Set `model.stopTraining = true` to stop. */
export interface Callback {
  onTrainBegin?(): void | Promise<void>;
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

/** A callback that reports progress after every batch and epoch: what apps drive progress bars with. */
export function progressCallback(onProgress: (p: Progress & { readonly phase: "batch" | "epoch" }) => void, sizes: { epochs: number; batches: number }): Callback {
  let epoch = 0;
  return {
    onEpochBegin: (e) => void (epoch = e),
    onBatchEnd: (batch, logs) => onProgress({ phase: "batch", epoch, epochs: sizes.epochs, batch, batches: sizes.batches, logs }),
    onEpochEnd: (e, logs) => onProgress({ phase: "epoch", epoch: e, epochs: sizes.epochs, batch: sizes.batches - 1, batches: sizes.batches, logs }),
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

/** Stops `fit` when the monitored quantity stops improving. */
export function earlyStopping(model: { stopTraining: boolean }, options: EarlyStoppingOptions = {}): Callback & { readonly stoppedEpoch: number | undefined } {
  const patience = options.patience ?? 0;
  const minDelta = options.minDelta ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new ArgumentError(`earlyStopping: patience must be a non-negative integer, got ${patience}`);
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
      const key = options.monitor ?? ("valLoss" in logs ? "valLoss" : "loss");
      const value = logs[key];
      if (value === undefined) throw new ArgumentError(`earlyStopping: monitored "${key}" is not logged (logged: ${Object.keys(logs).join(", ")})`);
      const mode = options.mode ?? (/acc/i.test(key) ? "max" : "min");
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
