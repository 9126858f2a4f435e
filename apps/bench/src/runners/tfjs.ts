/**
 * TensorFlow.js 4.22.0 adapter: tfjs-core with tfjs-backend-cpu or tfjs-backend-wasm, tfjs-layers for training.
 * The packages ship CommonJS builds for Node, loaded here with `require` so that tfjs-layers and the backends
 * share the one tfjs-core instance.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { ACTIVATION_PARAMS, type ActivationName, TRAIN } from "../config.js";
import { SMALL } from "../small-suite.js";
import type { ActivationMode, CnnModel, ConvOps, FitHooks, LibraryMemory, MlpModel, Op, Runner, SmallModel } from "./types.js";

type Tf = typeof import("@tensorflow/tfjs-core");
type TfLayers = typeof import("@tensorflow/tfjs-layers");
type TfWasm = typeof import("@tensorflow/tfjs-backend-wasm");
type Tensor = import("@tensorflow/tfjs-core").Tensor;
type LayersModel = import("@tensorflow/tfjs-layers").LayersModel;

/** Loads TF.js on `backend` ("cpu" or "wasm", asking for `wasmThreads` threads) and returns its adapter. */
export async function createTfjsRunner(backend: string, wasmThreads = 1): Promise<Runner<Tensor>> {
  // created here, not at the top: the browser bench (src/browser/) bundles this module for a page
  const require = createRequire(import.meta.url);
  const tf = require("@tensorflow/tfjs-core") as Tf;
  // tfjs-core's Node build registers no gradients; tfjs-layers' build registers them all (as the tfjs
  // union package does), so it is loaded first even for the op suites
  const tfl = require("@tensorflow/tfjs-layers") as TfLayers;
  const notes: string[] = [];
  const info: Record<string, string | number | boolean> = { version: tf.version_core };
  let threads = 1;
  if (backend === "cpu") {
    require("@tensorflow/tfjs-backend-cpu");
  } else if (backend === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as TfWasm;
    // In Node the .wasm binaries are read from disk: a directory path with a trailing slash
    wasm.setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`);
    wasm.setThreadsCount(wasmThreads);
    notes.push(
      "tfjs-wasm runs single-threaded in Node: tfjs-core reports WASM_HAS_MULTITHREAD_SUPPORT = false there, and forcing it fails (its pthread workers are blob: URLs, which Node's Worker rejects)",
    );
  } else {
    throw new Error(`tfjs: unknown backend "${backend}"; use cpu or wasm`);
  }
  // production mode: what TF.js recommends for speed (no debug checks)
  tf.enableProdMode();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: setBackend("${backend}") failed`);
  await tf.ready();
  if (backend === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as TfWasm;
    threads = wasm.getThreadsCount();
    info.simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    info.multithread = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  }
  info.threads = threads;
  return tfjsAdapter(tf, tfl, backend, threads, info, notes);
}

/**
 * The adapter over a TF.js that is loaded and on `backend` (in Node by {@link createTfjsRunner}, in a page
 * by src/browser/page.ts): the same ops and model whichever way TF.js was loaded.
 */
export function tfjsAdapter(tf: Tf, tfl: TfLayers, backend: string, threads: number, info: Record<string, string | number | boolean>, notes: string[]): Runner<Tensor> {
  const erfRegistered = tf.getKernel("Erf", backend) !== undefined;
  notes.push(
    erfRegistered
      ? "tfjs has no gelu op: gelu is composed as 0.5·x·(1 + erf(x/√2)) with tf.erf"
      : `tfjs has no gelu op and tfjs-${backend} has no Erf kernel: gelu is composed from TF.js ops with the Abramowitz–Stegun erf that tfjs-cpu's Erf uses`,
  );

  /** erf by Abramowitz & Stegun 7.1.26 (max error 1.5e-7), from ops every backend has. */
  const erfComposed = (x: Tensor): Tensor =>
    tf.tidy(() => {
      const a = tf.abs(x);
      const t = tf.div(1, tf.add(1, tf.mul(a, 0.3275911)));
      let poly = tf.scalar(1.061405429);
      for (const c of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = tf.add(tf.mul(poly, t), c);
      const y = tf.sub(1, tf.mul(tf.mul(poly, t), tf.exp(tf.neg(tf.square(a)))));
      return tf.mul(tf.sign(x), y);
    });
  const erf = erfRegistered ? (x: Tensor) => tf.erf(x) : erfComposed;

  const fns: Record<ActivationName, (x: Tensor) => Tensor> = {
    sigmoid: (x) => tf.sigmoid(x),
    tanh: (x) => tf.tanh(x),
    relu: (x) => tf.relu(x),
    leakyRelu: (x) => tf.leakyRelu(x, ACTIVATION_PARAMS.leakyRelu!.alpha),
    elu: (x) => tf.elu(x),
    gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, erf(tf.mul(x, Math.SQRT1_2)))),
  };

  const op = (make: () => Tensor): Op => ({
    run: () => tf.dispose(tf.tidy(make)),
    read: () => {
      const y = tf.tidy(make);
      const values = y.dataSync() as Float32Array;
      y.dispose();
      return values;
    },
  });
  const elementwiseOp = (f: (x: Tensor) => Tensor, x: Tensor, mode: ActivationMode, g: Tensor): Op => {
    if (mode === "forward") return op(() => f(x));
    // the gradient of sum(g ⊙ f(x)): the same formulation as the Neurite side
    const df = tf.grad((v: Tensor) => tf.sum(tf.mul(f(v), g)));
    return op(() => df(x));
  };

  return {
    library: "tfjs",
    backend,
    threads,
    info,
    notes,
    tensor: (values, shape) => tf.tensor(values, [...shape], "float32"),
    slice: (t, start, end) => tf.slice(t, start, end - start),
    free: (t) => t.dispose(),
    values: (t) => t.dataSync() as Float32Array,
    activation: (name, x, mode, g) => elementwiseOp(fns[name], x, mode, g),
    softmax: (x, mode, g) => elementwiseOp((v) => tf.softmax(v), x, mode, g),
    matmul: (a, b, transposeA, transposeB) => op(() => tf.matMul(a, b, transposeA, transposeB)),
    mlp: (weights) => tfjsMlp(tf, tfl, weights),
    small: (widths, weights) => tfjsSmall(tf, tfl, widths, weights),
    conv: tfjsConv(tf, tfl, op),
    memory: (): LibraryMemory => {
      const m = tf.memory();
      return { tensors: m.numTensors, bytes: m.numBytes };
    },
  };
}

/** The conv suite's ops: tf.conv2d (NHWC, kernels [kH, kW, C, F]) and a tfjs-layers CNN. */
function tfjsConv(tf: Tf, tfl: TfLayers, op: (make: () => Tensor) => Op): ConvOps<Tensor> {
  const conv = (x: Tensor, k: Tensor) => tf.conv2d(x as import("@tensorflow/tfjs-core").Tensor4D, k as import("@tensorflow/tfjs-core").Tensor4D, 1, "same");
  return {
    conv2d: (x, kernel, mode, g) => {
      if (mode === "forward") return op(() => conv(x, kernel));
      const both = tf.grads((a: Tensor, k: Tensor) => tf.sum(tf.mul(conv(a, k), g)));
      return {
        run: () => tf.dispose(tf.tidy(() => both([x, kernel]))),
        read: () => {
          const [dx, dk] = tf.tidy(() => both([x, kernel]));
          const values = new Float32Array(dx!.size + dk!.size);
          values.set(dx!.dataSync());
          values.set(dk!.dataSync(), dx!.size);
          tf.dispose([dx!, dk!]);
          return values;
        },
      };
    },
    cnn: (weights) => tfjsCnn(tf, tfl, weights),
  };
}

/**
 * Compiles a TF.js model for the bench's training settings (Adam, categorical cross-entropy), sets the shared
 * starting weights, and returns its trainOnBatch giving the loss as a number.
 */
function compileWithWeights(tf: Tf, model: LayersModel, initial: readonly Float32Array[]): (x: Tensor, y: Tensor) => Promise<number> {
  model.compile({ optimizer: tf.train.adam(TRAIN.lr, TRAIN.beta1, TRAIN.beta2, TRAIN.eps), loss: "categoricalCrossentropy" });
  const shapes = model.getWeights().map((t) => t.shape);
  const init = initial.map((v, i) => tf.tensor(v, shapes[i]));
  model.setWeights(init);
  for (const t of init) t.dispose();
  return async (x, y) => {
    const loss = await model.trainOnBatch(x, y);
    return Array.isArray(loss) ? loss[0]! : loss;
  };
}

function tfjsCnn(tf: Tf, tfl: TfLayers, initial: readonly Float32Array[]): CnnModel<Tensor> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const trainOnBatch = compileWithWeights(tf, model, initial);
  return {
    trainOnBatch,
    predict(x) {
      const y = model.predict(x, { batchSize: 256 }) as Tensor;
      const values = y.dataSync() as Float32Array;
      y.dispose();
      return values;
    },
    weights: () => model.getWeights().map((t) => t.dataSync() as Float32Array),
    dispose: () => model.dispose(),
  };
}

function tfjsMlp(tf: Tf, tfl: TfLayers, initial: readonly Float32Array[]): MlpModel<Tensor> {
  const w = TRAIN.widths;
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: w[1], activation: "relu", inputShape: [w[0]] }),
      tfl.layers.dense({ units: w[2], activation: "relu" }),
      tfl.layers.dense({ units: w[3], activation: "softmax" }),
    ],
  });
  const trainOnBatch = compileWithWeights(tf, model, initial);
  return {
    trainOnBatch,
    async fit(x, y, { epochs, batchSize }, hooks: FitHooks) {
      await model.fit(x, y, {
        epochs,
        batchSize,
        shuffle: true,
        verbose: 0,
        // never hand the event loop back mid-epoch: that would bill idle time to training
        yieldEvery: "never",
        callbacks: {
          onEpochBegin: (e) => hooks.onEpochBegin(e),
          onEpochEnd: (e) => hooks.onEpochEnd(e),
          onBatchEnd: (b) => hooks.onBatchEnd(b),
        },
      });
    },
    predict(x) {
      const y = model.predict(x, { batchSize: TRAIN.predictBatch }) as Tensor;
      const values = y.dataSync() as Float32Array;
      y.dispose();
      return values;
    },
    weights: () => model.getWeights().map((t) => t.dataSync() as Float32Array),
    dispose: () => model.dispose(),
  };
}

/** The small suite's network in tfjs-layers: dense tanh layers, meanSquaredError, tf.train.sgd (small-suite.ts). */
function tfjsSmall(tf: Tf, tfl: TfLayers, widths: readonly number[], initial: readonly Float32Array[]): SmallModel<Tensor> {
  const model = tfl.sequential({
    layers: widths.slice(1).map((units, l) => tfl.layers.dense({ units, activation: "tanh", ...(l === 0 ? { inputShape: [widths[0]!] } : {}) })),
  });
  model.compile({ optimizer: tf.train.sgd(SMALL.lr), loss: "meanSquaredError" });
  const shapes = model.getWeights().map((t) => t.shape);
  const init = initial.map((v, i) => tf.tensor(v, shapes[i]));
  model.setWeights(init);
  for (const t of init) t.dispose();
  return {
    async trainOnBatch(x, y) {
      const loss = await model.trainOnBatch(x, y);
      return Array.isArray(loss) ? loss[0]! : loss;
    },
    async fitEpoch(x, y, batchSize) {
      // no callbacks, and never hand the event loop back mid-epoch (idle time would be billed to training)
      await model.fit(x, y, { epochs: 1, batchSize, shuffle: true, verbose: 0, yieldEvery: "never" });
    },
    weights: () => model.getWeights().map((t) => t.dataSync() as Float32Array),
    dispose: () => model.dispose(),
  };
}
