/**
 * Neurite adapter: @neurite/core with @neurite/backend-cpu, or @neurite/backend-wasm when it is built, and
 * the four activation families.
 */
import {

  type Tensor,
  adam,
  applyActivation,
  getBackend,
  matmul,
  memory,
  mul,
  resolveActivation,
  scope,
  sequential,
  setBackend,
  slice,
  sum,
  tensor,
  use,
  valueAndGrad,
} from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { ACTIVATION_PARAMS, type ActivationName, TRAIN } from "../config.js";
import { type ActivationMode, type FitHooks, type MlpModel, type Op, type Runner } from "./types.js";

/** Registers the plugins, activates `backend` ("cpu" or "wasm", on `wasmThreads` threads) and returns the adapter. */
export async function createNeuriteRunner(backend: string, wasmThreads = 1): Promise<Runner<Tensor>> {
  if (backend !== "cpu" && backend !== "wasm") throw new Error(`neurite: unknown backend "${backend}"; use cpu or wasm`);
  use(cpuBackend, wasmBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
  await setBackend(backend, backend === "wasm" ? { threads: wasmThreads } : undefined);
  const caps = getBackend().capabilities?.() ?? {};
  const threads = typeof caps.threads === "number" ? caps.threads : 1;
  const info: Record<string, string | number | boolean> = { threads };
  // what bears on speed; the rest of capabilities() (memory size, kernel cache) changes as it runs
  for (const k of ["simd", "threadsRequested", "sharedMemory", "threadsFallbackReason"]) if (caps[k] !== undefined) info[k] = caps[k];

  const bound = (name: ActivationName | "softmax") => resolveActivation({ name, ...(ACTIVATION_PARAMS[name as ActivationName] ?? {}) });
  // scope frees everything the computation created, the result included
  const op = (make: () => Tensor): Op => ({
    run: () => scope(() => void make()),
    read: () => scope(() => make().dataSync()),
  });
  const activationOp = (name: ActivationName | "softmax", x: Tensor, mode: ActivationMode, g: Tensor): Op => {
    const act = bound(name);
    if (mode === "forward") return op(() => applyActivation(x, act));
    // what a user writes for a backward pass with upstream gradient g: valueAndGrad of sum(g ⊙ f(x))
    const vg = valueAndGrad((v: Tensor) => sum(mul(applyActivation(v, act), g)));
    return op(() => vg(x).grads[0]!);
  };

  return {
    library: "neurite",
    backend,
    threads,
    info,
    notes: [],
    tensor: (values, shape) => tensor(values, shape),
    slice: (t, start, end) => slice(t, start, end),
    free: (t) => t.dispose(),
    values: (t) => t.dataSync(),
    activation: activationOp,
    softmax: (x, mode, g) => activationOp("softmax", x, mode, g),
    matmul: (a, b, transposeA, transposeB) => op(() => matmul(a, b, { transposeA, transposeB })),
    mlp: (weights) => neuriteMlp(weights),
    memory: () => {
      const m = memory();
      return { tensors: m.tensors, bytes: m.bytes };
    },
  };
}

function neuriteMlp(initial: readonly Float32Array[]): MlpModel<Tensor> {
  const w = TRAIN.widths;
  const model = sequential(
    [
      { type: "dense", units: w[1], activation: "relu", inputShape: [w[0]] },
      { type: "dense", units: w[2], activation: "relu" },
      { type: "dense", units: w[3], activation: "softmax" },
    ],
    { seed: TRAIN.seed },
  );
  model.compile({ optimizer: adam({ lr: TRAIN.lr, beta1: TRAIN.beta1, beta2: TRAIN.beta2, eps: TRAIN.eps }), loss: "categoricalCrossEntropy" });
  model.weights.forEach((v, i) => {
    const t = tensor(initial[i]!, v.shape);
    v.assign(t);
    t.dispose();
  });
  return {
    trainOnBatch: (x, y) => Promise.resolve(model.trainOnBatch(x, y).loss!),
    async fit(x, y, { epochs, batchSize }, hooks: FitHooks) {
      await model.fit(x, y, {
        epochs,
        batchSize,
        shuffle: true,
        callbacks: [{ onEpochBegin: (e) => hooks.onEpochBegin(e), onEpochEnd: (e) => hooks.onEpochEnd(e), onBatchEnd: (b) => hooks.onBatchEnd(b) }],
      });
    },
    predict: (x) => scope(() => model.predict(x, { batchSize: TRAIN.predictBatch }).dataSync()),
    weights: () => model.weights.map((v) => v.dataSync()),
    dispose: () => model.dispose(),
  };
}
