/**
 * Builds the network a configuration describes and trains it step by step: what the worker runs, and what the
 * unit tests run in Node on the same backend.
 */
import {
  ArgumentError,
  type ActivationMeta,
  type ActivationSpecLoose,
  type ElementwiseActivation,
  type LayerDiagnostics,
  type LayerSpec,
  Random,
  type Sequential,
  type Tensor,
  adam,
  defineActivation,
  diagnose,
  keep,
  noGrad,
  saveModel,
  scope,
  sequential,
  sgd,
  tensor,
} from "@neurite/core";
import { FORMULA, type LayerConfig, type PlaygroundConfig } from "./config.js";
import { type Split, isRegression, toArrays } from "./data.js";

/** What a typed formula declares about itself: nothing is known, so nothing is promised. */
const FORMULA_META: ActivationMeta = { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: false };

/** A short stable hash, so that each distinct formula gets its own activation name. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * An activation from a typed formula (`x * sigmoid(1.702 * x)`), through `defineActivation`'s string form: it gets
 * the fused kernels and the derived derivative of any declared activation. Throws `FormulaError` (with the position)
 * when the text does not parse.
 */
export function formulaActivation(text: string): ElementwiseActivation {
  return defineActivation({
    name: `formula_${hash(text)}`,
    family: "custom",
    package: "playground",
    version: "0.0.0",
    description: text,
    params: {},
    meta: FORMULA_META,
    formula: text,
  });
}

/** The activation spec of a hidden layer. */
export function layerActivation(layer: LayerConfig): ActivationSpecLoose {
  return layer.activation === FORMULA ? formulaActivation(layer.formula) : { name: layer.activation, ...layer.params };
}

/** The task a configuration trains: its output layer, loss and what a prediction means. */
export type Task = "binary" | "softmax" | "regression";

export function taskOf(config: PlaygroundConfig): Task {
  if (isRegression(config.dataset)) return "regression";
  return config.output === "softmax" ? "softmax" : "binary";
}

const LOSS = { binary: "binaryCrossEntropy", softmax: "sparseCategoricalCrossEntropy", regression: "mse" } as const;

/** The layers of the network: the hidden layers as configured, then the task's output layer. */
export function modelLayers(config: PlaygroundConfig): LayerSpec[] {
  const task = taskOf(config);
  const hidden = config.layers.map((l, i) => ({
    type: "dense" as const,
    units: l.units,
    activation: layerActivation(l),
    ...(i === 0 ? { inputShape: [2] } : {}),
  }));
  const output = task === "softmax" ? { units: 2, activation: "softmax" } : task === "binary" ? { units: 1, activation: "sigmoid" } : { units: 1 };
  return [...hidden, { type: "dense", ...output }] as LayerSpec[];
}

export function buildModel(config: PlaygroundConfig): Sequential {
  const model = sequential(modelLayers(config), { seed: config.seed, name: "playground" });
  const weightDecay = config.l2;
  const optimizer = config.optimizer === "adam"
    ? adam({ lr: config.lr, weightDecay })
    : sgd({ lr: config.lr, momentum: config.optimizer === "momentum" ? 0.9 : 0, weightDecay });
  model.compile({ optimizer, loss: LOSS[taskOf(config)] });
  return model;
}

export interface Evaluation {
  readonly trainLoss: number;
  readonly testLoss: number;
  /** Fraction classified correctly (classification only; NaN for regression). */
  readonly trainAccuracy: number;
  readonly testAccuracy: number;
}

/** One data set's tensors: inputs [n, 2] and targets in the shape the loss wants. */
interface DataTensors {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly labels: Float32Array;
}

/**
 * A model and its data, trained one mini-batch at a time. Batches keep one size: they are taken in order from a
 * seeded shuffle of the training set, reshuffled at each epoch's end, wrapping across epochs, so that every step
 * has the same shapes.
 */
export class Trainer {
  readonly model: Sequential;
  readonly task: Task;
  readonly batchSize: number;
  /** Optimizer steps taken. */
  steps = 0;
  /** Samples seen, over the training set's size: the epoch counter. */
  samplesSeen = 0;
  private readonly train: DataTensors;
  private readonly test: DataTensors | undefined;
  private readonly trainXs: Float32Array;
  private readonly trainYs: Float32Array;
  private order: number[];
  private cursor = 0;
  private readonly rng: Random;
  private readonly batchX: Float32Array;
  private readonly batchY: Float32Array;
  private grid: Tensor | undefined;
  private disposed = false;

  constructor(readonly config: PlaygroundConfig, split: Split) {
    if (split.train.length === 0) throw new ArgumentError("the training set is empty (every point was erased or went to the test set): add points, raise the training fraction or reset the data set");
    this.task = taskOf(config);
    this.model = buildModel(config);
    const train = toArrays(split.train);
    this.trainXs = train.xs;
    this.trainYs = train.ys;
    this.train = this.tensors(train.xs, train.ys);
    const test = toArrays(split.test);
    this.test = split.test.length ? this.tensors(test.xs, test.ys) : undefined;
    this.batchSize = Math.min(config.batchSize, split.train.length);
    this.batchX = new Float32Array(this.batchSize * 2);
    this.batchY = new Float32Array(this.batchSize);
    this.rng = new Random(config.seed ^ 0xba7c);
    this.order = this.rng.permutation(split.train.length);
  }

  get trainSize(): number {
    return this.trainYs.length;
  }

  get epoch(): number {
    return this.samplesSeen / this.trainSize;
  }

  private tensors(xs: Float32Array, ys: Float32Array): DataTensors {
    return { x: tensor(xs, [ys.length, 2]), y: this.task === "softmax" ? tensor(ys, [ys.length]) : tensor(ys, [ys.length, 1]), labels: ys };
  }

  /** Runs `count` optimizer steps; returns the mean training loss of their batches. */
  step(count = 1): number {
    let sum = 0;
    for (let s = 0; s < count; s++) {
      for (let i = 0; i < this.batchSize; i++) {
        if (this.cursor === this.order.length) {
          this.order = this.rng.permutation(this.order.length);
          this.cursor = 0;
        }
        const k = this.order[this.cursor++]!;
        this.batchX[2 * i] = this.trainXs[2 * k]!;
        this.batchX[2 * i + 1] = this.trainXs[2 * k + 1]!;
        this.batchY[i] = this.trainYs[k]!;
      }
      sum += scope(() => {
        const x = tensor(this.batchX, [this.batchSize, 2]);
        const y = this.task === "softmax" ? tensor(this.batchY, [this.batchSize]) : tensor(this.batchY, [this.batchSize, 1]);
        return this.model.trainOnBatch(x, y).loss!;
      });
      this.steps++;
      this.samplesSeen += this.batchSize;
    }
    return sum / count;
  }

  /** Loss and accuracy on the training and test sets. */
  evaluate(): Evaluation {
    const train = this.measure(this.train);
    const test = this.test ? this.measure(this.test) : { loss: NaN, accuracy: NaN };
    return { trainLoss: train.loss, testLoss: test.loss, trainAccuracy: train.accuracy, testAccuracy: test.accuracy };
  }

  private measure(d: DataTensors): { loss: number; accuracy: number } {
    const loss = this.model.evaluate(d.x, d.y).loss!;
    if (this.task === "regression") return { loss, accuracy: NaN };
    const p = this.positive(d.x);
    let correct = 0;
    p.forEach((v, i) => {
      if ((v > 0.5 ? 1 : 0) === d.labels[i]) correct++;
    });
    return { loss, accuracy: correct / p.length };
  }

  /**
   * For each input row: the probability of class 1 (classification) or the predicted value (regression), from
   * one batched predict.
   */
  positive(x: Tensor): Float32Array {
    const out = noGrad(() => scope(() => this.model.predict(x, { batchSize: x.shape[0] }).dataSync()));
    if (this.task !== "softmax") return out;
    const p = new Float32Array(out.length / 2);
    for (let i = 0; i < p.length; i++) p[i] = out[2 * i + 1]!;
    return p;
  }

  /** The heat map: {@link positive} over a grid given as [n, 2] points (kept on the backend between frames). */
  predictGrid(points: Float32Array): Float32Array {
    if (!this.grid || this.grid.shape[0] !== points.length / 2) {
      this.grid?.dispose();
      this.grid = keep(tensor(points, [points.length / 2, 2]));
    }
    return this.positive(this.grid);
  }

  /** Gradient norm, dead units and saturation per layer, on the training set. */
  diagnostics(): LayerDiagnostics[] {
    return diagnose(this.model, this.train.x, this.train.y, LOSS[this.task]);
  }

  /** The model as a Neurite model file (`model.json` text and `weights.bin` bytes). */
  save(): { json: string; weights: ArrayBuffer } {
    const saved = saveModel(this.model);
    return { json: JSON.stringify(saved.json), weights: saved.weights };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
    for (const t of [this.train.x, this.train.y, this.test?.x, this.test?.y, this.grid]) t?.dispose();
  }
}
