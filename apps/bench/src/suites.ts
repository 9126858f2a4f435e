/**
 * The suites, run the same way against any library adapter: first the outputs on small seeded check inputs
 * (compared later with Neurite CPU), then the timings.
 */
import {
  ACTIVATIONS,
  ACTIVATION_SIZES,
  MATMUL_CASES,
  type ModeConfig,
  SEEDS,
  SOFTMAX_SHAPES,
  TRAIN,
  operandShapes,
} from "./config.js";
import { concat, mlpWeights, syntheticDataset, uniformArray } from "./data.js";
import { collectGarbage, matmulGflops, measure, measureAsync, median, perSecond } from "./harness.js";
import { measureJsCopy, measureWasmCopy } from "./limits.js";
import { convSuite } from "./conv-suite.js";
import { smallSuite } from "./small-suite.js";
import type { ResultRow, Suite } from "./protocol.js";
import type { ActivationMode, Runner } from "./runners/types.js";

/** Shapes of the check inputs: small, odd where it matters, covering the interesting range of each function. */
export const CHECK = {
  activationSize: 4099,
  softmaxShape: [37, 10] as const,
  softmaxWideShape: [5, 1024] as const,
  matmul: { m: 33, k: 70, n: 17 },
  trainBatch: 128,
  trainSteps: 3,
  predictRows: 16,
} as const;

export interface SuiteOutput {
  rows: ResultRow[];
  checks: Record<string, Float32Array>;
}

type Log = (message: string) => void;

/** Runs the requested suites against one library adapter. */
export async function runSuites<T>(r: Runner<T>, suites: ReadonlySet<Suite>, mode: ModeConfig, log: Log): Promise<SuiteOutput> {
  const rows: ResultRow[] = [];
  const checks: Record<string, Float32Array> = {};
  const row: RowFn = (suite, c, size, medianMs, throughput, unit, detail, annotation) => {
    rows.push({
      suite, case: c, size, library: r.library, backend: r.backend, threads: r.threads, median_ms: medianMs, throughput, unit,
      ...(annotation ? { annotation } : {}), ...(detail ? { detail } : {}),
    });
  };
  const policy = mode.policy;
  const copy = { js: 0, wasm: 0 };

  if (suites.has("limit") || suites.has("activation-forward") || suites.has("activation-backward")) {
    // measured in every worker: the ceiling elementwise results are quoted against, in this very process
    const n = ACTIVATION_SIZES[ACTIVATION_SIZES.length - 1]!;
    for (const lim of [measureJsCopy(n, policy), measureWasmCopy(n, policy)]) {
      if (lim.case === "copy Float32Array.set") copy.js = lim.elementsPerSecond;
      else copy.wasm = lim.elementsPerSecond;
      if (suites.has("limit")) {
        row("limit", lim.case, String(n), lim.timing.medianMs, lim.elementsPerSecond, "elem/s", `${(lim.bytesPerSecond / 1e9).toFixed(1)} GB/s read+write, ${lim.timing.reps} reps`);
      }
    }
    log(`copy: ${(copy.js / 1e6).toFixed(0)} Melem/s (Float32Array.set), ${(copy.wasm / 1e6).toFixed(0)} Melem/s (wasm memory.copy)`);
    if (suites.has("limit")) {
      // what the timed rows leave out: copying a result out of the library into a new Float32Array
      const t = r.tensor(uniformArray(n, -1, 1, SEEDS.x), [n]);
      const timing = measure(() => void r.values(t), policy);
      const eps = perSecond(n, timing.medianMs);
      row("limit", "read back (dataSync)", String(n), timing.medianMs, eps, "elem/s", `${((8 * eps) / 1e9).toFixed(1)} GB/s read+write, ${timing.reps} reps`);
      r.free(t);
    }
  }
  // a JS backend is bound by JS copies, a WASM backend by copies inside its memory
  const copyRef = r.backend === "wasm" ? copy.wasm : copy.js;
  const ofCopy = (elemPerSec: number): string => (copyRef > 0 ? `${((100 * elemPerSec) / copyRef).toFixed(copyRef > 10 * elemPerSec ? 1 : 0)}%` : "");

  for (const direction of ["forward", "backward"] as const satisfies readonly ActivationMode[]) {
    const suite: Suite = direction === "forward" ? "activation-forward" : "activation-backward";
    if (!suites.has(suite)) continue;
    // checks
    {
      const x = r.tensor(uniformArray(CHECK.activationSize, -6, 6, SEEDS.checkX), [CHECK.activationSize]);
      const g = r.tensor(uniformArray(CHECK.activationSize, -1, 1, SEEDS.checkG), [CHECK.activationSize]);
      for (const name of ACTIVATIONS) checks[`${suite}:${name}`] = r.activation(name, x, direction, g).read();
      r.free(x);
      r.free(g);
      const parts: Float32Array[] = [];
      for (const shape of [CHECK.softmaxShape, CHECK.softmaxWideShape]) {
        const size = shape[0] * shape[1];
        const sx = r.tensor(uniformArray(size, -6, 6, SEEDS.checkX), shape);
        const sg = r.tensor(uniformArray(size, -1, 1, SEEDS.checkG), shape);
        parts.push(r.softmax(sx, direction, sg).read());
        r.free(sx);
        r.free(sg);
      }
      checks[`${suite}:softmax`] = concat(parts);
    }
    // timings
    for (const size of ACTIVATION_SIZES) {
      const x = r.tensor(uniformArray(size, -4, 4, SEEDS.x), [size]);
      const g = r.tensor(uniformArray(size, -1, 1, SEEDS.g), [size]);
      for (const name of ACTIVATIONS) {
        const op = r.activation(name, x, direction, g);
        const t = measure(op.run, policy);
        const eps = perSecond(size, t.medianMs);
        row(suite, name, String(size), t.medianMs, eps, "elem/s", `${t.reps} reps`, ofCopy(eps));
      }
      r.free(x);
      r.free(g);
      log(`${suite} ${size} done`);
    }
    for (const shape of SOFTMAX_SHAPES) {
      const size = shape[0] * shape[1];
      const x = r.tensor(uniformArray(size, -4, 4, SEEDS.x), shape);
      const g = r.tensor(uniformArray(size, -1, 1, SEEDS.g), shape);
      const op = r.softmax(x, direction, g);
      const t = measure(op.run, policy);
      const eps = perSecond(size, t.medianMs);
      row(suite, "softmax", `${shape[0]}x${shape[1]}`, t.medianMs, eps, "elem/s", `${t.reps} reps`, ofCopy(eps));
      r.free(x);
      r.free(g);
    }
  }

  if (suites.has("matmul")) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true]] as const) {
      const s = operandShapes({ ...CHECK.matmul, transposeA: tA, transposeB: tB });
      const a = r.tensor(uniformArray(s.a[0] * s.a[1], -1, 1, SEEDS.matA), s.a);
      const b = r.tensor(uniformArray(s.b[0] * s.b[1], -1, 1, SEEDS.matB), s.b);
      checks[`matmul:${tA ? "t" : "n"}${tB ? "t" : "n"}`] = r.matmul(a, b, tA, tB).read();
      r.free(a);
      r.free(b);
    }
    for (const c of MATMUL_CASES) {
      const s = operandShapes(c);
      const a = r.tensor(uniformArray(s.a[0] * s.a[1], -1, 1, SEEDS.matA), s.a);
      const b = r.tensor(uniformArray(s.b[0] * s.b[1], -1, 1, SEEDS.matB), s.b);
      const op = r.matmul(a, b, c.transposeA, c.transposeB);
      const t = measure(op.run, policy);
      row("matmul", c.name, `${c.m}x${c.k}x${c.n}`, t.medianMs, matmulGflops(c.m, c.k, c.n, t.medianMs), "GFLOP/s", `${t.reps} reps`);
      r.free(a);
      r.free(b);
    }
    log("matmul done");
  }

  if (suites.has("train") || suites.has("predict")) await trainSuites(r, suites, mode, row, checks, log);
  if (suites.has("conv")) await convSuite(r, mode, row, checks, log);
  if (suites.has("small")) await smallSuite(r, mode, row, checks, log);
  return { rows, checks };
}

/** Process memory in MB: resident set, JS heap, and ArrayBuffers (typed arrays, wasm memories). */
function processMemory(): { rss: number; heap: number; arrayBuffers: number } {
  // in a browser page (src/browser/page.ts) only Chromium's JS heap size is known
  if (typeof process === "undefined") {
    const heap = (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    return { rss: 0, heap: heap / 2 ** 20, arrayBuffers: 0 };
  }
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20, arrayBuffers: m.arrayBuffers / 2 ** 20 };
}

type RowFn = (suite: Suite, c: string, size: string, medianMs: number | null, throughput: number, unit: string, detail?: string, annotation?: string) => void;

async function trainSuites<T>(r: Runner<T>, suites: ReadonlySet<Suite>, mode: ModeConfig, row: RowFn, checks: Record<string, Float32Array>, log: Log): Promise<void> {
  const [features, classes] = [TRAIN.widths[0], TRAIN.widths[TRAIN.widths.length - 1]!];
  const data = syntheticDataset(TRAIN.samples, features, classes, SEEDS.data);
  const init = mlpWeights(TRAIN.widths, SEEDS.weights);
  const x = r.tensor(data.x, [TRAIN.samples, features]);
  const y = r.tensor(data.y, [TRAIN.samples, classes]);

  // checks: predictions from the shared initial weights, then a few Adam steps (losses and final weights)
  {
    const model = r.mlp(init);
    const xs = r.slice(x, 0, CHECK.predictRows);
    checks.predict = model.predict(xs);
    r.free(xs);
    const xb = r.slice(x, 0, CHECK.trainBatch);
    const yb = r.slice(y, 0, CHECK.trainBatch);
    const losses: number[] = [];
    for (let s = 0; s < CHECK.trainSteps; s++) losses.push(await model.trainOnBatch(xb, yb));
    r.free(xb);
    r.free(yb);
    checks["train:loss"] = Float32Array.from(losses);
    checks["train:weights"] = concat(model.weights());
    model.dispose();
  }

  if (suites.has("train")) {
    const model = r.mlp(init);
    let peak = { rss: 0, heap: 0, arrayBuffers: 0, library: 0 };
    const sample = (): void => {
      const p = processMemory();
      peak = {
        rss: Math.max(peak.rss, p.rss),
        heap: Math.max(peak.heap, p.heap),
        arrayBuffers: Math.max(peak.arrayBuffers, p.arrayBuffers),
        library: Math.max(peak.library, r.memory().bytes / 2 ** 20),
      };
    };
    const size = `${TRAIN.samples}x${features} b${TRAIN.batchSize}`;
    const caseName = "mlp 784-256-128-10";
    collectGarbage();
    if (mode.train.kind === "fit") {
      const epochMs: number[] = [];
      let start = 0;
      await model.fit(x, y, { epochs: mode.train.epochs, batchSize: TRAIN.batchSize }, {
        onEpochBegin: () => void (start = performance.now()),
        onEpochEnd: () => void epochMs.push(performance.now() - start),
        // sampling every 8th batch keeps its cost out of the timing while still catching the peak
        onBatchEnd: (b) => void (b % 8 === 7 && sample()),
      });
      const timed = epochMs.slice(1); // the first epoch (JIT, kernel compilation, pools) is excluded
      const ms = median(timed);
      row("train", `${caseName} fit`, size, ms, perSecond(TRAIN.samples, ms), "samples/s",
        `model.fit, median of ${timed.length} epoch(s) after the first (${epochMs[0]!.toFixed(0)} ms)`);
    } else {
      const batches = TRAIN.samples / TRAIN.batchSize;
      let step = 0;
      const t = await measureAsync(async () => {
        const b = step++ % batches;
        const xb = r.slice(x, b * TRAIN.batchSize, (b + 1) * TRAIN.batchSize);
        const yb = r.slice(y, b * TRAIN.batchSize, (b + 1) * TRAIN.batchSize);
        await model.trainOnBatch(xb, yb);
        r.free(xb);
        r.free(yb);
        sample();
      }, mode.train.policy);
      row("train", `${caseName} steps`, size, t.medianMs, perSecond(TRAIN.batchSize, t.medianMs), "samples/s",
        `trainOnBatch, median of ${t.reps} steps after ${mode.train.policy.warmup} warm-up steps (--quick; the full run times model.fit epochs)`);
    }
    sample();
    row("train", "peak rss", "train", null, peak.rss, "MB", `heap ${peak.heap.toFixed(0)} MB, arrayBuffers ${peak.arrayBuffers.toFixed(0)} MB, library tensors ${peak.library.toFixed(1)} MB`);
    row("train", "peak library tensors", "train", null, peak.library, "MB", "bytes of live tensors the library reports");
    log("train done");
    model.dispose();

    // memory growth: trainOnBatch for many steps; compare after step `growthFrom` and at the end (after a GC)
    const gm = r.mlp(init);
    const bs = mode.growthBatch;
    const batches = Math.floor(TRAIN.samples / bs);
    const snapshot = (): { lib: { tensors: number; bytes: number }; proc: ReturnType<typeof processMemory> } => {
      collectGarbage();
      return { lib: r.memory(), proc: processMemory() };
    };
    let at = snapshot();
    let mid = at;
    const midStep = Math.round((mode.growthFrom + mode.growthSteps) / 2);
    const t0 = performance.now();
    for (let step = 1; step <= mode.growthSteps; step++) {
      const b = (step - 1) % batches;
      const xb = r.slice(x, b * bs, (b + 1) * bs);
      const yb = r.slice(y, b * bs, (b + 1) * bs);
      await gm.trainOnBatch(xb, yb);
      r.free(xb);
      r.free(yb);
      if (step === mode.growthFrom) at = snapshot();
      if (step === midStep) mid = snapshot();
    }
    const loopMs = performance.now() - t0;
    const heapBuf = (m: typeof at): number => m.proc.heap + m.proc.arrayBuffers;
    const end = snapshot();
    const dTensors = end.lib.tensors - at.lib.tensors;
    const dLib = (end.lib.bytes - at.lib.bytes) / 2 ** 20;
    const dHeap = end.proc.heap - at.proc.heap;
    const dBuf = end.proc.arrayBuffers - at.proc.arrayBuffers;
    const dRss = end.proc.rss - at.proc.rss;
    const grows = dTensors > 0 || dLib > 0 || dHeap + dBuf > Math.max(4, 0.05 * (at.proc.heap + at.proc.arrayBuffers));
    row("train", `memory growth, steps ${mode.growthFrom}→${mode.growthSteps}`, `b${bs}`, null, dHeap + dBuf, "MB",
      `tensors ${signed(dTensors)}, library ${signed(dLib, 2)} MB, heap ${signed(dHeap, 1)} MB, arrayBuffers ${signed(dBuf, 1)} MB, rss ${signed(dRss, 1)} MB; ${(loopMs / mode.growthSteps).toFixed(2)} ms/step; heap+arrayBuffers ${signed(heapBuf(mid) - heapBuf(at), 1)} MB in steps ${mode.growthFrom}→${midStep}, ${signed(heapBuf(end) - heapBuf(mid), 1)} MB in ${midStep}→${mode.growthSteps}`, grows ? "GROWS" : "flat");
    gm.dispose();
    log(`memory growth: ${grows ? "grows" : "flat"}`);
  }

  if (suites.has("predict")) {
    const model = r.mlp(init);
    const xs = r.slice(x, 0, TRAIN.predictBatch);
    const t = measure(() => void model.predict(xs), mode.policy);
    row("predict", "mlp 784-256-128-10", `b${TRAIN.predictBatch}`, t.medianMs, perSecond(TRAIN.predictBatch, t.medianMs), "samples/s", `${t.reps} reps`);
    // the scale-out path: the same model exported to ONNX, run by ONNX Runtime (CPU) on 1 and 2 intra-op threads
    const onnx = r.onnxRuntime ? model.onnx?.() : undefined;
    if (onnx && r.onnxRuntime) {
      const want = model.predict(xs);
      for (const threads of [1, 2]) {
        const session = await r.onnxRuntime(onnx, xs, threads);
        const got = await session.run();
        const err = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
        const ot = await measureAsync(async () => void (await session.run()), mode.policy);
        row("predict", `mlp 784-256-128-10, exported → ONNX Runtime, ${threads} thread${threads === 1 ? "" : "s"}`, `b${TRAIN.predictBatch}`, ot.medianMs,
          perSecond(TRAIN.predictBatch, ot.medianMs), "samples/s", `${ot.reps} reps; onnxruntime-node ${session.version} (CPU); max |ONNX Runtime − predict| ${err.toExponential(1)}`);
        await session.close();
      }
    }
    r.free(xs);
    model.dispose();
  }
  r.free(x);
  r.free(y);
}

function signed(v: number, digits = 0): string {
  const s = v.toFixed(digits);
  return v > 0 ? `+${s}` : s;
}
