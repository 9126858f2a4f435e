/**
 * Timing: warm-up runs, then the median of repeated runs, all with `performance.now()`. The number of
 * repetitions adapts to how long one run takes so that fast cases get many samples and slow ones stay
 * within the time budget.
 */

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median: needs at least one value, got an empty list");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** How many times to run a case. */
export interface RepeatPolicy {
  /** Untimed runs first: JIT compilation, kernel compilation, memory pools. */
  readonly warmup: number;
  readonly minReps: number;
  readonly maxReps: number;
  /** Aim for about this much time in timed runs (bounded by minReps and maxReps). */
  readonly budgetMs: number;
  /**
   * When the first warm-up run alone takes longer than this, it becomes the only sample (--quick: a case
   * that slow is past its JIT warm-up, and repeating it would not fit the time budget).
   */
  readonly singleRunAboveMs?: number;
}

/** The outcome of timing one case. */
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly reps: number;
  readonly samples: readonly number[];
}

/** Repetitions that fit `budgetMs` given one run of `firstMs`, within [minReps, maxReps]. */
export function repsFor(firstMs: number, policy: RepeatPolicy): number {
  const fit = firstMs > 0 ? Math.floor(policy.budgetMs / firstMs) : policy.maxReps;
  return Math.max(policy.minReps, Math.min(policy.maxReps, fit));
}

function summarize(samples: number[]): Timing {
  return { medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), reps: samples.length, samples };
}

/** Collects garbage between cases when node runs with --expose-gc (the worker does), so one case's garbage is not billed to the next. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** Times a synchronous run: `policy.warmup` untimed runs, then the median of repeated timed runs. */
export function measure(run: () => void, policy: RepeatPolicy): Timing {
  collectGarbage();
  for (let i = 0; i < policy.warmup; i++) {
    const t0 = performance.now();
    run();
    const ms = performance.now() - t0;
    if (i === 0 && policy.singleRunAboveMs !== undefined && ms > policy.singleRunAboveMs) return summarize([ms]);
  }
  const samples: number[] = [];
  const time = (): void => {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  };
  time();
  const reps = repsFor(samples[0]!, policy);
  while (samples.length < reps) time();
  return summarize(samples);
}

/** {@link measure} for a run that returns a promise (TF.js layers' trainOnBatch). */
export async function measureAsync(run: () => Promise<void>, policy: RepeatPolicy): Promise<Timing> {
  collectGarbage();
  for (let i = 0; i < policy.warmup; i++) {
    const t0 = performance.now();
    await run();
    const ms = performance.now() - t0;
    if (i === 0 && policy.singleRunAboveMs !== undefined && ms > policy.singleRunAboveMs) return summarize([ms]);
  }
  const samples: number[] = [];
  const time = async (): Promise<void> => {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  };
  await time();
  const reps = repsFor(samples[0]!, policy);
  while (samples.length < reps) await time();
  return summarize(samples);
}

/** Items per second for `items` processed in `ms` milliseconds. */
export function perSecond(items: number, ms: number): number {
  return ms > 0 ? (items * 1000) / ms : Number.POSITIVE_INFINITY;
}

/** GFLOP/s of an m×k by k×n product (2·m·n·k floating-point operations) that took `ms`. */
export function matmulGflops(m: number, k: number, n: number, ms: number): number {
  return (2 * m * n * k) / (ms * 1e6);
}
