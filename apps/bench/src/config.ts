/** What is measured, and how often: the single definition every library's worker follows. */
import type { RepeatPolicy } from "./harness.js";

export const ACTIVATIONS = ["sigmoid", "tanh", "relu", "leakyRelu", "elu", "gelu"] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];
/** Non-default parameters: leakyRelu's slope is 0.01 in both libraries (TF.js's op default is 0.2). */
export const ACTIVATION_PARAMS: Readonly<Partial<Record<ActivationName, Readonly<Record<string, number>>>>> = { leakyRelu: { alpha: 0.01 } };
export const ACTIVATION_SIZES = [2 ** 16, 2 ** 22] as const;
export const SOFTMAX_SHAPES = [[4096, 1024], [64, 10]] as const;

/** One matrix product; A is stored [k, m] when transposed, B [n, k]. */
export interface MatmulCase {
  readonly name: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

const square = (s: number): MatmulCase => ({ name: `square ${s}`, m: s, k: s, n: s, transposeA: false, transposeB: false });
export const MATMUL_CASES: readonly MatmulCase[] = [
  square(128), square(256), square(512), square(1024),
  // the three products of a Dense(784 → 256) training step at batch 128
  { name: "dense x·W", m: 128, k: 784, n: 256, transposeA: false, transposeB: false },
  { name: "dense xᵀ·dZ", m: 784, k: 128, n: 256, transposeA: true, transposeB: false },
  { name: "dense dZ·Wᵀ", m: 128, k: 256, n: 784, transposeA: false, transposeB: true },
];

/** Stored shapes of a product's operands. */
export function operandShapes(c: Pick<MatmulCase, "m" | "k" | "n" | "transposeA" | "transposeB">): { a: [number, number]; b: [number, number] } {
  return { a: c.transposeA ? [c.k, c.m] : [c.m, c.k], b: c.transposeB ? [c.n, c.k] : [c.k, c.n] };
}

export const TRAIN = {
  widths: [784, 256, 128, 10] as const,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  /** Neurite's (and PyTorch's) default; TF.js's default is 1e-7, so it is passed explicitly. */
  eps: 1e-8,
  batchSize: 128,
  samples: 8192,
  predictBatch: 1024,
  seed: 7,
} as const;

/**
 * How training speed is timed: `fit` over whole epochs (the first excluded), or, where whole epochs do not
 * fit the time budget (--quick: TF.js CPU needs minutes per epoch), the median of single `trainOnBatch`
 * steps of the same batch size after warm-up steps.
 */
export type TrainTiming =
  | { readonly kind: "fit"; readonly epochs: number }
  | { readonly kind: "steps"; readonly policy: RepeatPolicy };

/** How long each part runs in one mode. */
export interface ModeConfig {
  readonly name: "quick" | "full";
  readonly policy: RepeatPolicy;
  readonly train: TrainTiming;
  /** trainOnBatch steps of the memory-growth run, where memory is read at `growthFrom` and at the end. */
  readonly growthSteps: number;
  readonly growthFrom: number;
  /** Batch of the memory-growth run (--quick uses a small one: a leak shows per step, not per sample). */
  readonly growthBatch: number;
  /** A worker that runs longer is stopped and its library reported as failed. */
  readonly workerTimeoutMs: number;
}

export const MODES: Readonly<Record<"quick" | "full", ModeConfig>> = {
  quick: {
    name: "quick",
    // slow cases (TF.js CPU's 1024² product takes seconds) are timed once
    policy: { warmup: 1, minReps: 1, maxReps: 15, budgetMs: 150, singleRunAboveMs: 800 },
    train: { kind: "steps", policy: { warmup: 3, minReps: 5, maxReps: 40, budgetMs: 1500 } },
    // TF.js CPU spends about 0.1-0.3 s per step even at batch 1 (Adam over 235k weights), so 1,000 steps
    // take minutes: --quick reads memory after step 20 and step 100, the full run after 100 and 1,000
    growthSteps: 100,
    growthFrom: 20,
    growthBatch: 1,
    workerTimeoutMs: 240_000,
  },
  full: {
    name: "full",
    policy: { warmup: 2, minReps: 5, maxReps: 60, budgetMs: 2000 },
    train: { kind: "fit", epochs: 4 },
    growthSteps: 1000,
    growthFrom: 100,
    growthBatch: TRAIN.batchSize,
    workerTimeoutMs: 3_600_000,
  },
};

/** The libraries and backends compared, in table order. */
export const JOBS = [
  { library: "neurite", backend: "cpu" },
  { library: "tfjs", backend: "cpu" },
  { library: "neurite", backend: "wasm" },
  { library: "tfjs", backend: "wasm" },
] as const;

/** Seeds of the shared inputs. */
export const SEEDS = { checkX: 11, checkG: 12, x: 21, g: 22, matA: 31, matB: 32, data: 41, weights: 51 } as const;
