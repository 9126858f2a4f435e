/**
 * The conv suite (issue 16): conv2d forward and forward + both gradients at [32, 28, 28, 16] → 32 filters
 * 3×3 'same', and the digits CNN's training steps (batch 64) and inference (batch 256). Like the other
 * suites it first computes every output on small seeded inputs (checked later against Neurite CPU), then
 * times. A case a library cannot run at all (TF.js WASM has no Conv2DBackpropFilter kernel) is tried, and
 * its row says n/a with the library's reason instead of disappearing (throughput 0, median_ms null, and the
 * annotation "n/a (reason)"), and its check says n/a rather than ✗.
 */
import type { ModeConfig } from "./config.js";
import { SEEDS } from "./config.js";
import { concat, prng, uniformArray } from "./data.js";
import { type RepeatPolicy, collectGarbage, measure, measureAsync, perSecond } from "./harness.js";
import type { Suite } from "./protocol.js";
import type { Runner } from "./runners/types.js";

/** Sizes of the conv suite. */
export const CONV = {
  /** The timed convolution: [batch, height, width, channels] → `filters` filters of `kernel`×`kernel`, 'same'. */
  input: [32, 28, 28, 16] as const,
  filters: 32,
  kernel: 3,
  /** The digits CNN: [n, 8, 8, 1] images, 10 classes. */
  image: [8, 8, 1] as const,
  classes: 10,
  trainBatch: 64,
  predictBatch: 256,
  /** Synthetic images to draw training batches from (the shapes of scikit-learn's digits, not their values). */
  samples: 1024,
  check: { input: [2, 7, 9, 3] as const, filters: 4, batch: 16, steps: 3 },
  /**
   * --quick's training steps: fewer than the MLP's quick policy (3 warm-up + 5 timed), since TF.js CPU spends
   * 1–3 s on one CNN step and its worker, which also waits a minute for one conv2d forward + backward, must
   * finish all suites within the quick worker timeout (config.ts) on a loaded machine.
   */
  quickTrainPolicy: { warmup: 2, minReps: 3, maxReps: 40, budgetMs: 1500 } satisfies RepeatPolicy,
} as const;

/** Prefix of the check key a job writes (an empty array) when it cannot compute a case: the check then says n/a, not ✗. */
export const UNSUPPORTED = "unsupported:";

/** The check keys of a conv-suite case. */
export function convCheckKeys(caseName: string): string[] {
  if (caseName.startsWith("conv2d forward + backward")) return ["conv:backward"];
  if (caseName.startsWith("conv2d forward")) return ["conv:forward"];
  if (caseName.startsWith("digits CNN train")) return ["conv:train-loss", "conv:train-weights"];
  if (caseName.startsWith("digits CNN predict")) return ["conv:predict"];
  return [];
}

type RowFn = (suite: Suite, c: string, size: string, medianMs: number | null, throughput: number, unit: string, detail?: string, annotation?: string) => void;

/** Glorot-uniform kernels and zero biases of the digits CNN, in the order of `CnnModel.weights`. */
export function cnnWeights(seed: number): Float32Array[] {
  const glorot = (kh: number, kw: number, cin: number, cout: number, s: number): Float32Array => {
    const limit = Math.sqrt(6 / (kh * kw * cin + kh * kw * cout));
    return uniformArray(kh * kw * cin * cout, -limit, limit, s);
  };
  return [glorot(3, 3, 1, 16, seed), new Float32Array(16), glorot(3, 3, 16, 32, seed + 1), new Float32Array(32), glorot(1, 1, 32, 10, seed + 2), new Float32Array(10)];
}

/** Random images in [0, 1) and random one-hot labels. */
function images(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const x = uniformArray(n * 64, 0, 1, seed);
  const y = new Float32Array(n * CONV.classes);
  const next = prng(seed + 1);
  for (let i = 0; i < n; i++) y[i * CONV.classes + Math.floor(next() * CONV.classes)] = 1;
  return { x, y };
}

/** The library's error, shortened to its first line: why a case could not run. */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const kernel = /kernel '?([A-Za-z0-9]+)'? (?:is )?not registered|no kernel[^A-Za-z]+([A-Za-z0-9]+)/i.exec(message);
  const name = kernel?.[1] ?? kernel?.[2] ?? (/Conv2DBackpropFilter/.test(message) ? "Conv2DBackpropFilter" : undefined);
  return name ? `missing kernel ${name}` : message.split("\n")[0]!.slice(0, 120);
}

/** Runs the conv suite against one adapter. */
export async function convSuite<T>(r: Runner<T>, mode: ModeConfig, row: RowFn, checks: Record<string, Float32Array>, log: (m: string) => void): Promise<void> {
  const conv = r.conv;
  const [n, h, w, c] = CONV.input;
  const size = `${n}x${h}x${w}x${c} → ${CONV.filters}`;
  const fwdCase = `conv2d forward ${CONV.kernel}x${CONV.kernel} same`;
  const bwdCase = `conv2d forward + backward ${CONV.kernel}x${CONV.kernel} same`;
  const trainCase = "digits CNN train steps";
  const predictCase = "digits CNN predict";
  const trainSize = `8x8x1 b${CONV.trainBatch}`;
  const predictSize = `8x8x1 b${CONV.predictBatch}`;
  // throughput 0 keeps the JSON report valid (NaN is not JSON); the table shows the annotation instead
  const na = (c2: string, s: string, unit: string, why: string): void => row("conv", c2, s, null, 0, unit, why, `n/a (${why})`);
  if (!conv) {
    for (const [c2, s, unit] of [[fwdCase, size, "GFLOP/s"], [bwdCase, size, "GFLOP/s"], [trainCase, trainSize, "samples/s"], [predictCase, predictSize, "samples/s"]] as const) {
      na(c2, s, unit, "no conv ops in this adapter");
    }
    return;
  }
  const unsupported = new Map<string, string>();
  const tryCheck = (key: string, compute: () => Float32Array): void => {
    try {
      checks[key] = compute();
    } catch (e) {
      unsupported.set(key, reasonOf(e));
      checks[`${UNSUPPORTED}${key}`] = new Float32Array(0);
    }
  };

  // checks: small odd shapes, then the CNN from shared weights
  {
    const [cn, ch, cw, cc] = CONV.check.input;
    const f = CONV.check.filters;
    const x = r.tensor(uniformArray(cn * ch * cw * cc, -1, 1, SEEDS.checkX), CONV.check.input);
    const k = r.tensor(uniformArray(9 * cc * f, -1, 1, SEEDS.matA), [3, 3, cc, f]);
    const g = r.tensor(uniformArray(cn * ch * cw * f, -1, 1, SEEDS.checkG), [cn, ch, cw, f]);
    tryCheck("conv:forward", () => conv.conv2d(x, k, "forward", g).read());
    tryCheck("conv:backward", () => conv.conv2d(x, k, "backward", g).read());
    for (const t of [x, k, g]) r.free(t);
    const data = images(CONV.check.batch, SEEDS.data);
    const xb = r.tensor(data.x, [CONV.check.batch, ...CONV.image]);
    const yb = r.tensor(data.y, [CONV.check.batch, CONV.classes]);
    const model = conv.cnn(cnnWeights(SEEDS.weights));
    tryCheck("conv:predict", () => model.predict(xb));
    const losses: number[] = [];
    let trainError: Error | undefined;
    try {
      for (let s = 0; s < CONV.check.steps; s++) losses.push(await model.trainOnBatch(xb, yb));
    } catch (e) {
      trainError = e instanceof Error ? e : new Error(String(e));
    }
    tryCheck("conv:train-loss", () => {
      if (trainError !== undefined) throw trainError;
      return Float32Array.from(losses);
    });
    tryCheck("conv:train-weights", () => {
      if (trainError !== undefined) throw trainError;
      return concat(model.weights());
    });
    model.dispose();
    r.free(xb);
    r.free(yb);
  }

  // timings: 2·N·H·W·F·(kH·kW·C) flops for the forward; the backward adds the same again for dx and for dW
  const flops = 2 * n * h * w * CONV.filters * CONV.kernel * CONV.kernel * c;
  {
    const x = r.tensor(uniformArray(n * h * w * c, -1, 1, SEEDS.x), CONV.input);
    const k = r.tensor(uniformArray(9 * c * CONV.filters, -1, 1, SEEDS.matA), [3, 3, c, CONV.filters]);
    const g = r.tensor(uniformArray(n * h * w * CONV.filters, -1, 1, SEEDS.g), [n, h, w, CONV.filters]);
    for (const [caseName, key, direction, work] of [[fwdCase, "conv:forward", "forward", flops], [bwdCase, "conv:backward", "backward", 3 * flops]] as const) {
      const why = unsupported.get(key);
      if (why) {
        na(caseName, size, "GFLOP/s", why);
        continue;
      }
      const t = measure(conv.conv2d(x, k, direction, g).run, mode.policy);
      row("conv", caseName, size, t.medianMs, work / (t.medianMs * 1e6), "GFLOP/s", `${t.reps} reps; ${direction === "forward" ? "" : "forward, dx and dKernel, "}${(work / 1e9).toFixed(2)} GFLOP per run`);
    }
    for (const t of [x, k, g]) r.free(t);
    log("conv2d done");
  }
  const data = images(CONV.samples, SEEDS.data + 7);
  const x = r.tensor(data.x, [CONV.samples, ...CONV.image]);
  const y = r.tensor(data.y, [CONV.samples, CONV.classes]);
  const trainWhy = unsupported.get("conv:train-loss");
  if (trainWhy) {
    na(trainCase, trainSize, "samples/s", trainWhy);
  } else {
    const model = conv.cnn(cnnWeights(SEEDS.weights));
    const batches = CONV.samples / CONV.trainBatch;
    let step = 0;
    collectGarbage();
    const policy = mode.train.kind === "steps" ? CONV.quickTrainPolicy : mode.policy;
    const t = await measureAsync(async () => {
      const b = step++ % batches;
      const xb = r.slice(x, b * CONV.trainBatch, (b + 1) * CONV.trainBatch);
      const yb = r.slice(y, b * CONV.trainBatch, (b + 1) * CONV.trainBatch);
      await model.trainOnBatch(xb, yb);
      r.free(xb);
      r.free(yb);
    }, policy);
    row("conv", trainCase, trainSize, t.medianMs, perSecond(CONV.trainBatch, t.medianMs), "samples/s",
      `trainOnBatch, median of ${t.reps} steps after ${policy.warmup} warm-up steps (${(1000 / t.medianMs).toFixed(1)} steps/s)`);
    model.dispose();
  }
  const predictWhy = unsupported.get("conv:predict");
  if (predictWhy) {
    na(predictCase, predictSize, "samples/s", predictWhy);
  } else {
    const model = conv.cnn(cnnWeights(SEEDS.weights));
    const xs = r.slice(x, 0, CONV.predictBatch);
    const t = measure(() => void model.predict(xs), mode.policy);
    row("conv", predictCase, predictSize, t.medianMs, perSecond(CONV.predictBatch, t.medianMs), "samples/s", `${t.reps} reps`);
    r.free(xs);
    model.dispose();
  }
  r.free(x);
  r.free(y);
  log("conv done");
}
