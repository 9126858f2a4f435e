import { scope } from "../autograd/scope.js";
import { noGrad, valueAndGradOf } from "../autograd/tape.js";
import { ArgumentError, ShapeError, fmtShape, fmtValue } from "../errors.js";
import type { CallContext, LayerInstance, LayerPlugin, LayerSpec } from "../layer/contract.js";
import { layers as layerRegistry } from "../layer/registry.js";
import { concat, gather, slice } from "../ops/shape-ops.js";
import { Random } from "../ops/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { Variable } from "../tensor/variable.js";
import type { Callback, Logs } from "../training/callbacks.js";
import { initialize } from "../training/initializers.js";
import { type LossSpec, type ResolvedLoss, resolveLoss } from "../training/losses.js";
import { type MetricSpec, resolveMetric } from "../training/metrics.js";
import { type Optimizer, type OptimizerSpec, resolveOptimizer } from "../training/optimizers.js";

/** A layer of a model: its plugin, its full config, and once built its instance and weights. */
export interface ModelLayer {
  readonly name: string;
  readonly plugin: LayerPlugin;
  readonly config: Readonly<Record<string, unknown>>;
  instance?: LayerInstance;
  inputShape?: readonly number[];
  readonly weights: Variable[];
}

export interface SequentialOptions {
  /** Seeds weight initialization, shuffling and dropout: the same seed trains the same model. Default 0. */
  readonly seed?: number;
  readonly name?: string;
}

export interface CompileOptions {
  readonly optimizer: OptimizerSpec;
  readonly loss: LossSpec;
  readonly metrics?: readonly MetricSpec[];
}

export interface FitOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Shuffle the samples each epoch (seeded by the model's seed); default true. */
  readonly shuffle?: boolean;
  /** Hold out this fraction of the samples (the last ones, before shuffling) for validation. */
  readonly validationSplit?: number;
  readonly validationData?: readonly [Tensor, Tensor];
  readonly callbacks?: readonly Callback[];
}

/** Per-epoch logs of a `fit`. */
export interface History {
  readonly epochs: number[];
  readonly history: Record<string, number[]>;
}

/** What `fit`, `evaluate` and `trainOnBatch` need from a compiled model. */
interface Compiled {
  readonly optimizer: Optimizer;
  readonly loss: ResolvedLoss;
  readonly metrics: readonly { name: string; fn: (t: Tensor, p: Tensor) => number }[];
}

/** Array.isArray without narrowing readonly arrays to any[]. */
const isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

function resolveLayer(spec: LayerSpec): { plugin: LayerPlugin; config: Record<string, unknown> } {
  if (!spec || typeof spec !== "object" || !("type" in spec)) {
    throw new ArgumentError(`a layer must be { type, ...config } (e.g. { type: "dense", units: 8 }), got ${fmtValue(spec)}`);
  }
  const { type, ...rest } = spec as { type: string | LayerPlugin } & Record<string, unknown>;
  const plugin = typeof type === "string" ? layerRegistry.get(type) : type;
  return { plugin, config: plugin.configure(rest) as Record<string, unknown> };
}

/**
 * A stack of layers, Keras style: `summary`, `compile`, `fit`, `evaluate`, `predict`, `trainOnBatch`, and
 * for hand-written loops `apply` + `trainableWeights` with `valueAndGradOf` and an optimizer.
 *
 * @example
 * const model = sequential([
 *   { type: "dense", units: 8, activation: "relu", inputShape: [2] },
 *   { type: "dense", units: 1, activation: "sigmoid" },
 * ], { seed: 1 });
 * model.compile({ optimizer: adam({ lr: 0.05 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
 * await model.fit(x, y, { epochs: 200, batchSize: 4 });
 */
export class Sequential {
  readonly name: string;
  readonly seed: number;
  readonly layers: ModelLayer[];
  /** Set by a callback to stop `fit` after the current epoch. */
  stopTraining = false;
  private compiled: Compiled | undefined;
  private callRandom: Random;

  constructor(specs: readonly LayerSpec[], options: SequentialOptions = {}) {
    if (!isArray(specs) || specs.length === 0) throw new ArgumentError("sequential: needs a non-empty array of layers");
    this.name = options.name ?? "sequential";
    this.seed = options.seed ?? 0;
    this.callRandom = new Random(this.seed ^ 0x5eed);
    const counts = new Map<string, number>();
    this.layers = specs.map((s) => {
      const { plugin, config } = resolveLayer(s);
      const n = (counts.get(plugin.name) ?? 0) + 1;
      counts.set(plugin.name, n);
      return { name: `${plugin.name}${n}`, plugin, config, weights: [] };
    });
    const first = this.layers[0]!.config.inputShape as readonly number[] | undefined;
    if (first) this.build(first);
  }

  get built(): boolean {
    return this.layers.every((l) => l.instance);
  }

  /** Creates every layer's weights for samples of `inputShape` (without the batch axis). */
  build(inputShape: readonly number[]): this {
    if (this.built) return this;
    const seeds = new Random(this.seed);
    let shape = [...inputShape];
    const created: Variable[] = [];
    try {
      for (const layer of this.layers) {
        const layerSeeds = new Random(seeds.nextUint32());
        const names = new Set<string>();
        layer.inputShape = shape;
        layer.instance = layer.plugin.build(layer.config, shape, {
          addWeight: (name, wshape, init, opts) => {
            if (names.has(name)) throw new ArgumentError(`layer ${layer.name}: weight "${name}" is created twice`);
            names.add(name);
            const t = initialize(init, wshape, layerSeeds.nextUint32());
            const v = new Variable(t, `${layer.name}/${name}`, opts?.trainable ?? true);
            t.dispose();
            created.push(v);
            layer.weights.push(v);
            return v;
          },
        });
        shape = [...layer.instance.outputShape];
      }
    } catch (e) {
      // nothing half-built: drop every weight created so far
      for (const v of created) v.dispose();
      for (const l of this.layers) {
        l.instance = undefined;
        l.weights.length = 0;
      }
      throw e;
    }
    return this;
  }

  get inputShape(): readonly number[] | undefined {
    return this.layers[0]!.inputShape;
  }

  get outputShape(): readonly number[] | undefined {
    return this.layers[this.layers.length - 1]!.instance?.outputShape;
  }

  /** Every weight, in layer order. */
  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  get trainableWeights(): Variable[] {
    return this.weights.filter((w) => w.trainable);
  }

  private context(training: boolean): CallContext {
    return { training, nextSeed: () => this.callRandom.nextUint32() };
  }

  private ensureBuilt(x: Tensor): void {
    if (!this.built) this.build(x.shape.slice(1));
    const expected = this.inputShape!;
    const got = x.shape.slice(1);
    if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
      throw new ShapeError(`${this.name}: expected inputs of shape [batch, ${expected.join(", ")}], got ${fmtShape(x.shape)}`);
    }
  }

  /**
   * The forward pass, recording gradients (use inside `valueAndGradOf`). `training` switches dropout on.
   * With `logits`, the last layer stops before its softmax.
   */
  apply(x: Tensor, options: { training?: boolean; logits?: boolean } = {}): Tensor {
    this.ensureBuilt(x);
    const ctx = this.context(options.training ?? false);
    let h = x;
    this.layers.forEach((layer, i) => {
      const last = i === this.layers.length - 1;
      const next = last && options.logits ? layer.instance!.logits!(h, ctx) : layer.instance!.call(h, ctx);
      if (h !== x && !h.requiresGrad && next !== h) h.dispose();
      h = next;
    });
    return h;
  }

  /** Predictions for a batch of inputs (inference mode, no gradients), in chunks of `batchSize`. */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    const bs = options.batchSize ?? 1024;
    return noGrad(() => {
      if (x.shape[0]! <= bs) return scope(() => this.apply(x));
      const parts: Tensor[] = [];
      for (let i = 0; i < x.shape[0]!; i += bs) parts.push(scope(() => this.apply(slice(x, i, i + bs))));
      const y = concat(parts, 0);
      for (const p of parts) p.dispose();
      return y;
    });
  }

  /** Sets the optimizer, loss and metrics used by `fit`, `evaluate` and `trainOnBatch`. */
  compile(options: CompileOptions): void {
    this.compiled = {
      optimizer: resolveOptimizer(options.optimizer),
      loss: resolveLoss(options.loss),
      metrics: (options.metrics ?? []).map(resolveMetric),
    };
  }

  /** The compiled optimizer. */
  get optimizer(): Optimizer {
    return this.requireCompiled("optimizer").optimizer;
  }

  private requireCompiled(what: string): Compiled {
    if (!this.compiled) throw new ArgumentError(`${this.name}: call compile({ optimizer, loss }) before ${what}`);
    return this.compiled;
  }

  /** Loss (a scalar tensor) and metrics on a batch; fuses softmax and cross-entropy when the last layer allows. */
  private lossAndMetrics(x: Tensor, y: Tensor, training: boolean): { loss: Tensor; logs: Logs } {
    const c = this.requireCompiled("training");
    this.ensureBuilt(x);
    const viaLogits = c.loss.afterSoftmax !== undefined && this.layers[this.layers.length - 1]!.instance!.logits !== undefined;
    const out = this.apply(x, { training, logits: viaLogits });
    const loss = viaLogits && c.loss.afterSoftmax ? c.loss.afterSoftmax(y, out) : c.loss.fn(y, out);
    const logs: Logs = {};
    // argmax-based metrics read logits as well as probabilities
    for (const m of c.metrics) logs[m.name] = m.fn(y, out);
    return { loss, logs };
  }

  /** One optimizer step on one batch; returns the loss before the step and the metrics. */
  trainOnBatch(x: Tensor, y: Tensor): Logs {
    const c = this.requireCompiled("trainOnBatch");
    const params = this.trainableWeightsFor(x);
    let logs: Logs = {};
    const { value, grads } = valueAndGradOf(() => {
      const r = this.lossAndMetrics(x, y, true);
      logs = r.logs;
      return r.loss;
    }, params);
    c.optimizer.step(params, grads);
    const loss = value.item();
    value.dispose();
    for (const g of grads) g.dispose();
    return { loss, ...logs };
  }

  private trainableWeightsFor(x: Tensor): Variable[] {
    this.ensureBuilt(x);
    return this.trainableWeights;
  }

  /** Loss and metrics over a dataset, in batches, without training. */
  evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): Logs {
    const bs = options.batchSize ?? 1024;
    const n = x.shape[0]!;
    const sums: Logs = {};
    noGrad(() => {
      for (let i = 0; i < n; i += bs) {
        scope(() => {
          const xb = n <= bs ? x : slice(x, i, i + bs);
          const yb = n <= bs ? y : slice(y, i, i + bs);
          const { loss, logs } = this.lossAndMetrics(xb, yb, false);
          const w = xb.shape[0]! / n;
          for (const [k, v] of Object.entries({ loss: loss.item(), ...logs })) sums[k] = (sums[k] ?? 0) + v * w;
        });
      }
    });
    return sums;
  }

  /** Trains for `epochs` over mini-batches; awaits every callback. */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    this.requireCompiled("fit");
    const { epochs = 1, batchSize = 32, shuffle = true, callbacks = [] } = options;
    if (!Number.isInteger(epochs) || epochs < 1) throw new ArgumentError(`fit: epochs must be a positive integer, got ${fmtValue(epochs)}`);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`fit: batchSize must be a positive integer, got ${fmtValue(batchSize)}`);
    if (x.shape[0] !== y.shape[0]) throw new ShapeError(`fit: x has ${x.shape[0]} samples (shape ${fmtShape(x.shape)}) but y has ${y.shape[0]} (shape ${fmtShape(y.shape)})`);
    let trainX = x;
    let trainY = y;
    let val = options.validationData;
    const owned: Tensor[] = [];
    if (options.validationSplit !== undefined) {
      const split = options.validationSplit;
      if (!(split > 0 && split < 1)) throw new ArgumentError(`fit: validationSplit must be in (0, 1), got ${split}`);
      const nTrain = Math.floor(x.shape[0]! * (1 - split));
      trainX = slice(x, 0, nTrain);
      trainY = slice(y, 0, nTrain);
      val = [slice(x, nTrain), slice(y, nTrain)];
      owned.push(trainX, trainY, ...val);
    }
    const n = trainX.shape[0]!;
    const batches = Math.ceil(n / batchSize);
    const shuffler = new Random(this.seed ^ 0x5a17);
    const history: History = { epochs: [], history: {} };
    this.stopTraining = false;
    try {
      for (const cb of callbacks) await cb.onTrainBegin?.();
      for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
        for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
        const order = shuffle ? shuffler.permutation(n) : undefined;
        const sums: Logs = {};
        for (let b = 0; b < batches; b++) {
          const start = b * batchSize;
          const end = Math.min(n, start + batchSize);
          const logs = scope(() => {
            const whole = start === 0 && end === n && !order;
            const idx = order?.slice(start, end);
            const xb = whole ? trainX : idx ? gather(trainX, idx) : slice(trainX, start, end);
            const yb = whole ? trainY : idx ? gather(trainY, idx) : slice(trainY, start, end);
            return this.trainOnBatch(xb, yb);
          });
          for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + (v * (end - start)) / n;
          for (const cb of callbacks) await cb.onBatchEnd?.(b, logs);
        }
        const epochLogs: Logs = { ...sums };
        if (val) for (const [k, v] of Object.entries(this.evaluate(val[0], val[1]))) epochLogs[`val${k[0]!.toUpperCase()}${k.slice(1)}`] = v;
        history.epochs.push(epoch);
        for (const [k, v] of Object.entries(epochLogs)) (history.history[k] ??= []).push(v);
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, epochLogs);
      }
      const last: Logs = Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v[v.length - 1]!]));
      for (const cb of callbacks) await cb.onTrainEnd?.(last);
    } finally {
      for (const t of owned) t.dispose();
    }
    return history;
  }

  /** A table of layers, output shapes and parameter counts. */
  summary(): string {
    const rows = this.layers.map((l) => [
      `${l.name} (${l.plugin.name})`,
      l.instance ? fmtShape([-1, ...l.instance.outputShape]).replace("-1", "batch") : "(not built)",
      String(l.weights.reduce((s, w) => s + w.size, 0)),
    ]);
    const header = ["Layer (type)", "Output shape", "Params"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("   ");
    const total = this.weights.reduce((s, w) => s + w.size, 0);
    const trainable = this.trainableWeights.reduce((s, w) => s + w.size, 0);
    const rule = "─".repeat(line(header).length);
    return [line(header), rule, ...rows.map(line), rule, `Total params: ${total} (trainable: ${trainable})`].join("\n");
  }

  /** Frees every weight and the optimizer's state. */
  dispose(): void {
    for (const w of this.weights) w.dispose();
    this.compiled?.optimizer.dispose();
  }
}

/** Creates a {@link Sequential} model. */
export function sequential(layers: readonly LayerSpec[], options?: SequentialOptions): Sequential {
  return new Sequential(layers, options);
}
