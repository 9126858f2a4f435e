/** Messages between the page and the training worker. */
import type { LayerDiagnostics } from "@neurite/core";
import type { PlaygroundConfig } from "./config.js";
import type { Split } from "./data.js";
import type { Evaluation } from "./trainer.js";

/** The heat map's resolution: one batched predict of GRID × GRID points per frame. */
export const GRID = 100;

export type ToWorker =
  | { readonly type: "init"; readonly threads: number }
  /** A new network and data: the trainer is rebuilt (generation `generation`); the play state is kept. */
  | { readonly type: "reset"; readonly generation: number; readonly config: PlaygroundConfig; readonly split: Split }
  | { readonly type: "play" }
  | { readonly type: "pause" }
  /** `count` optimizer steps (default 1) while paused, then a frame: the Step button, and tests that sample at exact steps. */
  | { readonly type: "step"; readonly count?: number }
  /** The page has drawn the last frame: the worker may send the next one. */
  | { readonly type: "ack" }
  | { readonly type: "export" };

export interface Frame {
  readonly type: "frame";
  readonly generation: number;
  readonly steps: number;
  readonly epoch: number;
  readonly evaluation: Evaluation;
  /** {@link GRID}² values, row by row from the top: p(class 1), or the predicted value for regression. */
  readonly grid: Float32Array;
  readonly diagnostics: readonly LayerDiagnostics[];
  /** Optimizer steps per second of training time alone (frames excluded), over the last second or so. */
  readonly stepsPerSecond: number;
  /** Steps per second of wall time while playing, frames included. */
  readonly wallStepsPerSecond: number;
  readonly batchSize: number;
  readonly playing: boolean;
  /** Milliseconds spent in optimizer steps while playing, since the last reset. */
  readonly trainMs: number;
  /** What this frame cost the worker: losses and accuracies, the heat map's predict, the diagnostics. */
  readonly timings: { readonly evaluateMs: number; readonly gridMs: number; readonly diagnosticsMs: number };
}

export type FromWorker =
  | { readonly type: "ready"; readonly capabilities: Readonly<Record<string, string | number | boolean>>; readonly warnings: readonly string[] }
  | Frame
  | { readonly type: "error"; readonly generation: number; readonly message: string }
  | { readonly type: "exported"; readonly json: string; readonly weights: ArrayBuffer };
