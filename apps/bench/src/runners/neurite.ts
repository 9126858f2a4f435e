/**
 * Neurite adapter: @neurite/core with @neurite/backend-cpu, or @neurite/backend-wasm when it is built, and
 * the four activation families.
 */
import {
  type Sequential,
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
  sgd,
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
import { convLayers, convolution2d } from "@neurite/layers-conv";
import { ACTIVATION_PARAMS, type ActivationName, TRAIN } from "../config.js";
import { concat } from "../data.js";
import { SMALL } from "../small-suite.js";
import { exportOnnx } from "@neurite/onnx";
import { type ActivationMode, type CnnModel, type ConvOps, type FitHooks, type MlpModel, type OnnxRuntimeSession, type Op, type Runner, type SmallModel } from "./types.js";

/** Sets every weight of `model` to the given start values (the same in every library). */
function startFrom(model: Sequential, initial: readonly Float32Array[]): void {
  model.weights.forEach((v, i) => {
    const t = tensor(initial[i]!, v.shape);
    v.assign(t);
    t.dispose();
  });
}

/** Registers the plugins, activates `backend` ("cpu" or "wasm", on `wasmThreads` threads) and returns the adapter. */
export async function createNeuriteRunner(backend: string, wasmThreads = 1): Promise<Runner<Tensor>> {
  if (backend !== "cpu" && backend !== "wasm") throw new Error(`neurite: unknown backend "${backend}"; use cpu or wasm`);
  use(cpuBackend, wasmBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily, convLayers);
  await setBackend(backend, backend === "wasm" ? { threads: wasmThreads } : undefined);
  const caps = getBackend().capabilities?.() ?? {};
  const threads = typeof caps.threads === "number" ? caps.threads : 1;
  const info: Record<string, string | number | boolean> = { threads };
  // what bears on speed; the rest of capabilities() (memory size, kernel cache) changes as it runs
  for (const k of ["simd", "matmul", "threadsRequested", "sharedMemory", "threadsFallbackReason"]) if (caps[k] !== undefined) info[k] = caps[k];

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
    small: (widths, weights) => neuriteSmall(widths, weights),
    conv: neuriteConv(op),
    memory: () => {
      const m = memory();
      return { tensors: m.tensors, bytes: m.bytes };
    },
    // ONNX Runtime does not depend on Neurite's backend: measured once, beside the cpu backend's rows
    ...(backend === "cpu" ? { onnxRuntime: (bytes: Uint8Array, x: Tensor, threads: number) => onnxRuntimeSession(bytes, x.dataSync(), x.shape, threads) } : {}),
  };
}

async function onnxRuntimeSession(bytes: Uint8Array, x: Float32Array, shape: readonly number[], threads: number): Promise<OnnxRuntimeSession> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ["cpu"] });
  const feeds = { input: new ort.Tensor("float32", x, [...shape]) };
  return {
    run: async () => (await session.run(feeds)).output!.data as Float32Array,
    close: () => session.release(),
    version: ort.env.versions.node ?? "?",
  };
}

/** The conv suite's ops, through @neurite/layers-conv (composed from core ops: im2col by gather, then matmul). */
function neuriteConv(op: (make: () => Tensor) => Op): ConvOps<Tensor> {
  const same = { padding: "same" } as const;
  const both = valueAndGrad((x: Tensor, k: Tensor, g: Tensor) => sum(mul(convolution2d(x, k, same), g)));
  return {
    conv2d: (x, kernel, mode, g) =>
      mode === "forward"
        ? op(() => convolution2d(x, kernel, same))
        : {
            run: () => scope(() => void both(x, kernel, g)),
            read: () => scope(() => {
              const [dx, dk] = both(x, kernel, g).grads;
              return concat([dx!.dataSync(), dk!.dataSync()]);
            }),
          },
    cnn: (weights) => neuriteCnn(weights),
  };
}


function neuriteCnn(initial: readonly Float32Array[]): CnnModel<Tensor> {
  const model = sequential(
    [
      { type: "conv2d", filters: 16, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] },
      { type: "maxPool2d", poolSize: 2 },
      { type: "conv2d", filters: 32, kernelSize: 3, padding: "same", activation: "relu" },
      { type: "globalAveragePooling2d" },
      { type: "dense", units: 10, activation: "softmax" },
    ],
    { seed: TRAIN.seed },
  );
  model.compile({ optimizer: adam({ lr: TRAIN.lr, beta1: TRAIN.beta1, beta2: TRAIN.beta2, eps: TRAIN.eps }), loss: "categoricalCrossEntropy" });
  startFrom(model, initial);
  return {
    trainOnBatch: (x, y) => Promise.resolve(model.trainOnBatch(x, y).loss!),
    predict: (x) => scope(() => model.predict(x, { batchSize: 256 }).dataSync()),
    weights: () => model.weights.map((v) => v.dataSync()),
    dispose: () => model.dispose(),
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
  startFrom(model, initial);
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
    onnx: () => exportOnnx(model),
    dispose: () => model.dispose(),
  };
}

/** The small suite's network: dense tanh layers, mean squared error, plain SGD (small-suite.ts). */
function neuriteSmall(widths: readonly number[], initial: readonly Float32Array[]): SmallModel<Tensor> {
  const model = sequential(
    widths.slice(1).map((units, l) => ({ type: "dense" as const, units, activation: "tanh", ...(l === 0 ? { inputShape: [widths[0]!] } : {}) })),
    { seed: TRAIN.seed },
  );
  model.compile({ optimizer: sgd({ lr: SMALL.lr }), loss: "mse" });
  startFrom(model, initial);
  return {
    trainOnBatch: (x, y) => Promise.resolve(model.trainOnBatch(x, y).loss!),
    fitEpoch: async (x, y, batchSize) => void (await model.fit(x, y, { epochs: 1, batchSize, shuffle: true })),
    weights: () => model.weights.map((v) => v.dataSync()),
    dispose: () => model.dispose(),
  };
}
