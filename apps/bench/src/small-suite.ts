/**
 * The small suite (issue 17 §1): TensorFlow Playground's task, where the framework's cost per op, not FLOPs,
 * sets the speed. XOR-like 2-D points, tanh everywhere (the playground's output activation for
 * classification is tanh too), squared error, plain SGD at the playground's learning rate 0.03 and batch
 * 10, 250 training points per epoch; networks 2-8-8-1 and 2-32-32-32-1. Each library trains through its
 * public API two ways: `trainOnBatch` on each batch of 10 in order, and `fit` over one epoch with batch size
 * 10 and shuffling (what users call). Throughput is samples/s over whole epochs.
 *
 * Loss scaling: the playground's error is ½(out − target)² per point and its update averages the gradient over
 * the batch, w −= 0.03 · mean(∂½(o − t)²/∂w). Both libraries' built-in mean squared error is mean((o − t)²),
 * whose gradient is twice that, so they run SGD at lr 0.015 on it: the same update (SGD is linear in the
 * gradient), the same as the playground's up to float32 rounding. A custom ½·MSE loss would add an op and
 * keep a library off its built-in loss path.
 */
import type { ModeConfig } from "./config.js";
import { concat, prng, uniformArray } from "./data.js";
import { type RepeatPolicy, collectGarbage, measureAsync, perSecond } from "./harness.js";
import type { Suite } from "./protocol.js";
import type { Runner } from "./runners/types.js";

/** Sizes and settings of the small suite. */
export const SMALL = {
  /** The networks, input to output. */
  networks: [[2, 8, 8, 1], [2, 32, 32, 32, 1]] as const,
  /** The playground's default learning rate on ½(o − t)² … */
  playgroundLr: 0.03,
  /** … is this learning rate on mean((o − t)²) (see the file comment). */
  lr: 0.015,
  batchSize: 10,
  /** The playground's classification set is 500 points, 50 % of them for training. */
  samples: 250,
  /** The playground's xor points: uniform in [−5, 5]², pushed 0.3 away from each axis. */
  range: 5,
  padding: 0.3,
  /** The playground's initial weights (uniform in [−0.5, 0.5)) and biases (0.1). */
  weightRange: 0.5,
  bias: 0.1,
  seed: { data: 61, weights: 71 },
  /** Checks: this many trainOnBatch steps on the first batches, from the shared weights. */
  checkSteps: 5,
  /**
   * Timing: one run is one epoch of 250 samples (1–200 ms). Before it, whole epochs are run for at least
   * `warmupMs` (and the policy's warm-up epochs): a count of epochs would warm a library whose epoch takes 5 ms
   * for 40× fewer steps than one whose epoch takes 200 ms, and a JIT reaches its steady state after a number
   * of steps, not of epochs.
   */
  warmupMs: { quick: 1500, full: 3000 } satisfies Record<ModeConfig["name"], number>,
  policy: {
    quick: { warmup: 1, minReps: 5, maxReps: 60, budgetMs: 800 },
    full: { warmup: 1, minReps: 10, maxReps: 200, budgetMs: 3000 },
  } satisfies Record<ModeConfig["name"], RepeatPolicy>,
} as const;

/** The two ways of training that are timed. */
export const SMALL_METHODS = ["trainOnBatch", "fit"] as const;
export type SmallMethod = (typeof SMALL_METHODS)[number];

/** "2-8-8-1". */
export const networkName = (widths: readonly number[]): string => widths.join("-");

/** The row case of a network and a method: "mlp 2-8-8-1 trainOnBatch". */
export const smallCase = (widths: readonly number[], method: SmallMethod): string => `mlp ${networkName(widths)} ${method}`;

/** The check keys of a small-suite case: the losses and final weights of the check steps of its network. */
export function smallCheckKeys(caseName: string): string[] {
  const m = /^mlp ([0-9-]+) /.exec(caseName);
  return m ? [`small:${m[1]}:loss`, `small:${m[1]}:weights`] : [];
}

/**
 * The playground's "xor" set (dataset.ts `classifyXORData`, noise 0) from the bench's seeded generator:
 * x and y uniform in [−5, 5], each moved 0.3 away from 0 (so |x|, |y| ∈ [0.3, 5.3]), label 1 where
 * x·y ≥ 0 and −1 elsewhere. `x` is [n, 2], `y` is [n, 1].
 */
export function xorDataset(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const next = prng(seed);
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  const coordinate = (): number => {
    const v = -SMALL.range + 2 * SMALL.range * next();
    return v + (v > 0 ? SMALL.padding : -SMALL.padding);
  };
  for (let i = 0; i < n; i++) {
    const [a, b] = [coordinate(), coordinate()];
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a * b >= 0 ? 1 : -1;
  }
  return { x, y };
}

/** The playground's initialisation, seeded: [W1, b1, W2, b2, …], W of shape [in, out] uniform in [−0.5, 0.5), b = 0.1. */
export function smallWeights(widths: readonly number[], seed: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const [fanIn, fanOut] = [widths[l]!, widths[l + 1]!];
    out.push(uniformArray(fanIn * fanOut, -SMALL.weightRange, SMALL.weightRange, seed + 101 * l), new Float32Array(fanOut).fill(SMALL.bias));
  }
  return out;
}

type RowFn = (suite: Suite, c: string, size: string, medianMs: number | null, throughput: number, unit: string, detail?: string, annotation?: string) => void;

/** Runs the small suite against one adapter. */
export async function smallSuite<T>(r: Runner<T>, mode: ModeConfig, row: RowFn, checks: Record<string, Float32Array>, log: (m: string) => void): Promise<void> {
  const { batchSize, samples } = SMALL;
  const batches = samples / batchSize;
  const data = xorDataset(samples, SMALL.seed.data);
  const x = r.tensor(data.x, [samples, 2]);
  const y = r.tensor(data.y, [samples, 1]);
  // uploaded before timing, as every suite's inputs: the timed epoch is the training alone
  const xs = Array.from({ length: batches }, (_, b) => r.slice(x, b * batchSize, (b + 1) * batchSize));
  const ys = Array.from({ length: batches }, (_, b) => r.slice(y, b * batchSize, (b + 1) * batchSize));
  const size = `${samples}x2 b${batchSize}`;
  const policy = SMALL.policy[mode.name];
  for (const widths of SMALL.networks) {
    const net = networkName(widths);
    const init = smallWeights(widths, SMALL.seed.weights);
    {
      // checks: losses before each step and the weights after, from the shared start
      const model = r.small(widths, init);
      const losses: number[] = [];
      for (let s = 0; s < SMALL.checkSteps; s++) losses.push(await model.trainOnBatch(xs[s % batches]!, ys[s % batches]!));
      checks[`small:${net}:loss`] = Float32Array.from(losses);
      checks[`small:${net}:weights`] = concat(model.weights());
      model.dispose();
    }
    for (const method of SMALL_METHODS) {
      const model = r.small(widths, init);
      collectGarbage();
      const epoch =
        method === "trainOnBatch"
          ? async () => {
              for (let b = 0; b < batches; b++) await model.trainOnBatch(xs[b]!, ys[b]!);
            }
          : () => model.fitEpoch(x, y, batchSize);
      let warmupEpochs = 0;
      for (const start = performance.now(); performance.now() - start < SMALL.warmupMs[mode.name]; warmupEpochs++) await epoch();
      const t = await measureAsync(epoch, policy);
      const stepUs = (1000 * t.medianMs) / batches;
      row("small", smallCase(widths, method), size, t.medianMs, perSecond(samples, t.medianMs), "samples/s",
        `${method === "fit" ? "fit, 1 epoch per call, shuffled" : "trainOnBatch on each batch in order"}; median of ${t.reps} epochs after ${warmupEpochs + policy.warmup} warm-up epochs; ${stepUs.toFixed(0)} µs per step of ${batchSize}`);
      model.dispose();
    }
    log(`small ${net} done`);
  }
  for (const t of [...xs, ...ys, x, y]) r.free(t);
}
