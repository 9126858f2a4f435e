import type { TopLevelSpec } from "vega-lite";
import type { ProgressReporter } from "./progress.js";

/** One training run, as the summary table lists it. */
export interface RunRecord {
  readonly part: string;
  readonly label: string;
  readonly dataset: string;
  readonly activation: string;
  readonly epochs: number;
  readonly finalLoss: number;
  /** Accuracy on the evaluation set (the held-out flowers for Iris, the training points otherwise). */
  readonly accuracy: number;
  readonly msPerEpoch: number;
}

/** What every part receives. */
export interface TourContext {
  readonly seed: number;
  /** A shortened run (fewer samples and epochs) for tests. */
  readonly quick: boolean;
  readonly backend: string;
  readonly progress: ProgressReporter;
  /** Every training run so far, in order. */
  readonly runs: RunRecord[];
}

/** A figure: a Vega-Lite spec, rendered to SVG and PNG when the report is written. */
export interface Figure {
  /** File name without extension ("nonlinearity-boundary-relu"). */
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** What a part hands back: text and figures for the report, numbers for summary.json. */
export interface PartResult {
  readonly id: string;
  readonly title: string;
  /** The part's section of the report, as HTML (figures are placed where `{{figure:ID}}` appears, or appended). */
  readonly html: string;
  readonly figures: readonly Figure[];
  /** The measured facts of the part, written to summary.json. */
  readonly findings: Record<string, unknown>;
  /** One-line conclusions for the terminal summary. */
  readonly highlights: readonly string[];
}

/** Whether a run of the tour should be shortened (`--quick`, or NEURITE_EXAMPLE_QUICK=1). */
export function quickFromEnv(): boolean {
  return process.env.NEURITE_EXAMPLE_QUICK === "1";
}
