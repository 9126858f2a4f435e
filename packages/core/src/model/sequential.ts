import { scope } from "../autograd/scope.js";
import { isRecordingGradients, noGrad } from "../autograd/record.js";
import { ForwardCompiler } from "../compile/forward.js";
import { type TrainStep, TrainStepCompiler } from "../compile/train-step.js";
import { ArgumentError, NeuriteError, RegistryError, ShapeError, fmtShape } from "../errors.js";
import type { CallContext, LayerInstance, LayerPlugin } from "../layer/contract.js";
import type { LayerSpec } from "../layer/spec.js";
import { layers as layerRegistry } from "../layer/registry.js";
import { concat, slice } from "../ops/shape-ops.js";
import { Random } from "../ops/random.js";
import { Tensor } from "../tensor/tensor.js";
import { Variable } from "../tensor/variable.js";
import type { Logs } from "../training/callbacks.js";
import { checkBatch, checkSamples } from "./checks.js";
import { type FitOptions, type History, fitModel } from "./fit.js";
import { profiledIfEnabled } from "../profile/env.js";
import { modelSummary } from "./summary.js";
import { initialize } from "../layer/initializers.js";
import { type LossSpec, type ResolvedLoss, resolveLoss } from "../training/losses.js";
import { type MetricSpec, resolveMetric } from "../training/metrics.js";
import { type Optimizer, type OptimizerSpec, resolveOptimizer } from "../training/optimizers.js";
import { boolean, describeValue, field, finiteNumber, integer, nonEmptyString, readOptions } from "../validation/options.js";

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
  /**
   * Compile training steps (default true): once two steps of the same shapes made the same kernel calls,
   * later steps replay those calls over preallocated buffers and update the weights in place, with the
   * same results bit for bit and without the per-op work of the eager path. Steps that read data back or
   * draw random numbers inside the forward pass (sparse labels, dropout) stay eager. false keeps every
   * step eager: for debugging, or a custom layer with host-side side effects in `call`, which a replay
   * would not repeat.
   * @defaultValue true
   */
  readonly compiledSteps?: boolean;
}

/** What `fit`, `evaluate` and `trainOnBatch` need from a compiled model. */
interface Compiled {
  readonly optimizer: Optimizer;
  readonly loss: ResolvedLoss;
  readonly metrics: readonly { name: string; fn: (t: Tensor, p: Tensor) => number }[];
}

/**
 * @internal Where `build` takes a layer's weights from instead of initialising them: `loadModel` hands
 * the file's values over, after checking the shape each layer asks for, so nothing is initialised only to be
 * overwritten and nothing is allocated that the file does not hold.
 */
export type WeightSource = (weight: { readonly layer: string; readonly name: string; readonly shape: readonly number[]; readonly trainable: boolean }) => Tensor;

/** Array.isArray without narrowing readonly arrays to any[]. */
const isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

// ---- the options of each entry point, checked by the shared validator ----
const given = field<unknown>("given", (v) => v !== undefined);
const BATCH_OPTIONS = { batchSize: integer(1) };
const SEQUENTIAL_OPTIONS = { seed: finiteNumber(), name: nonEmptyString };
const APPLY_OPTIONS = { training: boolean, logits: boolean };
const COMPILE_OPTIONS = { optimizer: given, loss: given, metrics: field<readonly MetricSpec[]>("an array of metric names or functions, such as [\"accuracy\"]", isArray), compiledSteps: boolean };
/** The identity of a layer plugin for messages: `layer dense (from @neurite/core)`. */
function pluginLabel(plugin: LayerPlugin): string {
  return `layer ${String(plugin.name)} (from ${String(plugin.package)})`;
}

/** Runs a plugin's hook; an error that is not a NeuriteError (a plugin bug) becomes one naming the plugin. */
function callPlugin<R>(plugin: LayerPlugin, hook: string, run: () => R): R {
  try {
    return run();
  } catch (e) {
    if (e instanceof NeuriteError) throw e;
    throw new RegistryError(`${pluginLabel(plugin)} failed in ${hook}: ${e instanceof Error ? e.message : describeValue(e)}; this is a bug in that plugin`, { cause: e });
  }
}

function resolveLayer(spec: LayerSpec): { plugin: LayerPlugin; config: Record<string, unknown> } {
  if (!spec || typeof spec !== "object" || isArray(spec) || !("type" in spec)) {
    throw new ArgumentError(`a layer must be { type, ...config } (e.g. { type: "dense", units: 8 }), got ${describeValue(spec)}`);
  }
  const { type, ...rest } = spec as { type: unknown } & Record<string, unknown>;
  let plugin: LayerPlugin;
  if (typeof type === "string") plugin = layerRegistry.get(type);
  else if (type !== null && typeof type === "object" && (type as { kind?: unknown }).kind === "layer" && typeof (type as LayerPlugin).configure === "function" && typeof (type as LayerPlugin).build === "function") plugin = type as LayerPlugin;
  else throw new ArgumentError(`a layer's type must be a registered layer name or a layer plugin, got ${describeValue(type)}; registered layers: ${layerRegistry.names().join(", ")}`);
  const config: unknown = callPlugin(plugin, "configure", () => plugin.configure(rest));
  if (config === null || typeof config !== "object") {
    throw new RegistryError(`${pluginLabel(plugin)} configure must return the config object, got ${describeValue(config)}; this is a bug in that plugin`);
  }
  return { plugin, config: config as Record<string, unknown> };
}

/** Checks what a plugin's build returned: an object with an output shape of positive integers and a call. */
function checkInstance(plugin: LayerPlugin, instance: unknown): LayerInstance {
  const fix = "build must return { outputShape, call }";
  const bad = (what: string): never => {
    throw new RegistryError(`${pluginLabel(plugin)} build ${what}; ${fix} (this is a bug in that plugin)`);
  };
  if (instance === null || typeof instance !== "object") return bad(`returned ${describeValue(instance)}`);
  const { outputShape, call, logits } = instance as Partial<LayerInstance>;
  if (!isArray(outputShape) || !outputShape.every((d) => integer(1).accepts(d))) bad(`returned outputShape ${describeValue(outputShape)}, not an array of positive integers`);
  if (typeof call !== "function") bad("returned an instance without call(x, ctx)");
  if (logits !== undefined && typeof logits !== "function") bad(`returned logits ${describeValue(logits)}, not a function`);
  return instance as LayerInstance;
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
  /** Every weight in layer order, once built. */
  private builtWeights: readonly Variable[] | undefined;
  /** Training steps, compiled where they can be (see CompileOptions.compiledSteps). */
  private readonly steps = new TrainStepCompiler();
  /** predict's forward passes, compiled the same way. */
  private readonly forwards = new ForwardCompiler();
  private callRandom: Random;
  private weightSource: WeightSource | undefined;
  private disposed = false;

  /** @param weightSource internal: used by `loadModel` (see {@link WeightSource}). */
  constructor(specs: readonly LayerSpec[], options: SequentialOptions = {}, weightSource?: WeightSource) {
    this.weightSource = weightSource;
    if (!isArray(specs) || specs.length === 0) throw new ArgumentError(`sequential: needs a non-empty array of layers such as [{ type: "dense", units: 8 }], got ${describeValue(specs)}`);
    const o = readOptions("sequential", options, SEQUENTIAL_OPTIONS);
    this.name = o.name ?? "sequential";
    this.seed = o.seed ?? 0;
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
    this.assertUsable("build");
    if (this.built) return this;
    if (!isArray(inputShape) || inputShape.length > 64 || !inputShape.every((d) => integer(1).accepts(d))) {
      throw new ArgumentError(`${this.name}: build's inputShape must be an array of positive integers (one sample, without the batch axis), got ${describeValue(inputShape)}`);
    }
    const seeds = new Random(this.seed);
    let shape = [...inputShape];
    const created: Variable[] = [];
    try {
      for (const layer of this.layers) {
        const layerSeeds = new Random(seeds.nextUint32());
        const names = new Set<string>();
        layer.inputShape = shape;
        const plugin = layer.plugin;
        const built: unknown = callPlugin(plugin, "build", () => plugin.build(layer.config, shape, {
          addWeight: (name, wshape, init, opts) => {
            if (names.has(name)) throw new ArgumentError(`layer ${layer.name}: weight "${name}" is created twice`);
            names.add(name);
            const trainable = opts?.trainable ?? true;
            const t = this.weightSource
              ? this.weightSource({ layer: layer.name, name, shape: wshape, trainable })
              : initialize(init, wshape, layerSeeds.nextUint32());
            const v = new Variable(t, `${layer.name}/${name}`, trainable);
            t.dispose();
            created.push(v);
            layer.weights.push(v);
            return v;
          },
        }));
        layer.instance = checkInstance(plugin, built);
        shape = [...layer.instance.outputShape];
      }
      this.weightSource = undefined; // a loaded model's weights came from its file once
      this.builtWeights = this.layers.flatMap((l) => l.weights);
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
    return [...this.allWeights()];
  }

  get trainableWeights(): Variable[] {
    return this.allWeights().filter((w) => w.trainable);
  }

  /** The weights without a copy of the list (fixed once built): what every training step reads. */
  private allWeights(): readonly Variable[] {
    return this.builtWeights ?? this.layers.flatMap((l) => l.weights);
  }

  private context(training: boolean): CallContext {
    return { training, nextSeed: () => this.callRandom.nextUint32() };
  }

  /** Refuses calls on a disposed model (or one whose weights were disposed one by one) with the fix. */
  private assertUsable(op: string): void {
    if (this.disposed) throw new NeuriteError(`${op}: the model ${this.name} was disposed; create or load the model again to use it`);
    const gone = this.allWeights().find((w) => w.isDisposed);
    if (gone) throw new NeuriteError(`${op}: weight ${gone.name} of the model ${this.name} was disposed; create or load the model again to use it`);
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
    return this.applyChecked("apply", x, readOptions("apply", options, APPLY_OPTIONS));
  }

  private applyChecked(op: string, x: unknown, options: { training?: boolean; logits?: boolean }): Tensor {
    this.assertUsable(op);
    checkBatch(op, "x", x, this.inputShape);
    this.ensureBuilt(x);
    const lastLayer = this.layers[this.layers.length - 1]!;
    if (options.logits && !lastLayer.instance!.logits) {
      throw new ArgumentError(`${op}: logits needs a last layer that ends in a softmax (${lastLayer.name} has no logits); call apply without { logits: true }`);
    }
    const ctx = this.context(options.training ?? false);
    let h = x;
    this.layers.forEach((layer, i) => {
      const last = i === this.layers.length - 1;
      const next = last && options.logits ? layer.instance!.logits!(h, ctx) : layer.instance!.call(h, ctx);
      // an intermediate is freed at once only when no gradient is being recorded: a layer's backward may keep it
      // (dense's kernel gradient reads its input even when the input itself needs no gradient)
      if (h !== x && !h.requiresGrad && next !== h && !isRecordingGradients()) h.dispose();
      h = next;
    });
    return h;
  }

  /** Predictions for a batch of inputs (inference mode, no gradients), in chunks of `batchSize`. */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    const bs = readOptions("predict", options, BATCH_OPTIONS).batchSize ?? 1024;
    this.assertUsable("predict");
    checkBatch("predict", "x", x, this.inputShape);
    this.ensureBuilt(x);
    // each batch's forward pass runs compiled once two runs of its shape made the same kernel calls
    const forward = (xb: Tensor): Tensor => scope(() => this.applyChecked("predict", xb, {}));
    const run = (xb: Tensor): Tensor => (this.steps.enabled ? this.forwards.run(xb, this.allWeights(), forward) : forward(xb));
    return noGrad(() => {
      if (x.shape[0]! <= bs) return run(x);
      const parts: Tensor[] = [];
      for (let i = 0; i < x.shape[0]!; i += bs) parts.push(scope(() => run(slice(x, i, i + bs))));
      const y = concat(parts, 0);
      for (const p of parts) p.dispose();
      return y;
    });
  }

  /** Sets the optimizer, loss and metrics used by `fit`, `evaluate` and `trainOnBatch`. */
  compile(options: CompileOptions): void {
    this.assertUsable("compile");
    if (options === undefined) throw new ArgumentError('compile: options must be a plain object such as { optimizer: "adam", loss: "mse" }, got undefined');
    const o = readOptions("compile", options, COMPILE_OPTIONS);
    if (o.optimizer === undefined) throw new ArgumentError('compile: optimizer is required; pass e.g. { optimizer: adam({ lr: 0.001 }) } or { optimizer: "adam" }');
    if (o.loss === undefined) throw new ArgumentError('compile: loss is required; pass e.g. { loss: "mse" } or { loss: { name: "categoricalCrossEntropy", fromLogits: true } }');
    // resolve everything before replacing anything: a failed compile leaves the previous one in place
    const loss = resolveLoss(o.loss as LossSpec);
    const metrics = (o.metrics ?? []).map(resolveMetric);
    const optimizer = resolveOptimizer(o.optimizer as OptimizerSpec);
    this.compiled = { optimizer, loss, metrics };
    this.steps.reset();
    this.forwards.reset();
    this.steps.enabled = o.compiledSteps ?? true;
  }

  /** The compiled optimizer. */
  get optimizer(): Optimizer {
    return this.requireCompiled("optimizer").optimizer;
  }

  private requireCompiled(what: string): Compiled {
    this.assertUsable(what);
    if (!this.compiled) throw new ArgumentError(`${this.name}: call compile({ optimizer, loss }) before ${what}`);
    return this.compiled;
  }

  /**
   * The loss (a scalar tensor) on a batch and the model's output; fuses softmax and cross-entropy when the
   * last layer allows (the output is then the logits, which argmax-based metrics read as well).
   */
  private lossAndOutput(x: Tensor, y: Tensor, training: boolean): { loss: Tensor; output: Tensor } {
    const c = this.requireCompiled("training");
    this.ensureBuilt(x);
    const viaLogits = c.loss.fromSoftmaxLogits !== undefined && this.layers[this.layers.length - 1]!.instance!.logits !== undefined;
    const output = this.applyChecked("apply", x, { training, logits: viaLogits });
    const loss = viaLogits && c.loss.fromSoftmaxLogits ? c.loss.fromSoftmaxLogits(y, output) : c.loss.fn(y, output);
    return { loss, output };
  }

  /** One optimizer step on one batch; returns the loss before the step and the metrics. */
  trainOnBatch(x: Tensor, y: Tensor): Logs {
    const c = this.requireCompiled("trainOnBatch");
    checkBatch("trainOnBatch", "x", x, this.inputShape);
    checkBatch("trainOnBatch", "y", y, undefined);
    checkSamples("trainOnBatch", x, y, true);
    return this.steps.step(this.trainStep(c, x), x, y);
  }

  /** What a training step on batches like x computes, for the step compiler. */
  private trainStep(c: Compiled, x: Tensor): TrainStep {
    const params = this.trainableWeightsFor(x);
    return { lossAndOutput: (xb, yb) => this.lossAndOutput(xb, yb, true), metrics: c.metrics, optimizer: c.optimizer, weights: this.allWeights(), params };
  }

  /**
   * How `trainOnBatch(x, y)` runs steps of these shapes, or without `y`, how `predict` runs batches shaped
   * like `x` (see `CompileOptions.compiledSteps`): `"recording"` until two runs were recorded, then
   * `"compiled"`, or `{ eager: reason }` when a run cannot be replayed. For diagnostics.
   */
  compiledStepStatus(x: Tensor, y?: Tensor): "recording" | "compiled" | { readonly eager: string } {
    if (!this.steps.enabled) return { eager: "compiledSteps: false was given to compile" };
    return y === undefined ? this.forwards.status(x) : this.steps.status(x, y);
  }

  /**
   * @internal `trainOnBatch` on rows [start, end) of x and y, as `fit` trains on a shuffled copy of its data:
   * a compiled step copies the rows in without making them tensors.
   */
  trainOnRows(x: Tensor, y: Tensor, start: number, end: number): Logs {
    return this.steps.stepRows(this.trainStep(this.requireCompiled("fit"), x), x, y, start, end);
  }

  private trainableWeightsFor(x: Tensor): Variable[] {
    this.ensureBuilt(x);
    return this.trainableWeights;
  }

  /** Loss and metrics over a dataset, in batches, without training. */
  evaluate(x: Tensor, y: Tensor, options: { batchSize?: number } = {}): Logs {
    const bs = readOptions("evaluate", options, BATCH_OPTIONS).batchSize ?? 1024;
    const c = this.requireCompiled("evaluate");
    checkBatch("evaluate", "x", x, this.inputShape);
    checkBatch("evaluate", "y", y, undefined);
    checkSamples("evaluate", x, y, true);
    const n = x.shape[0]!;
    const sums: Logs = {};
    noGrad(() => {
      for (let i = 0; i < n; i += bs) {
        scope(() => {
          const xb = n <= bs ? x : slice(x, i, i + bs);
          const yb = n <= bs ? y : slice(y, i, i + bs);
          const { loss, output } = this.lossAndOutput(xb, yb, false);
          const w = xb.shape[0]! / n;
          const logs: Logs = { loss: loss.item() };
          for (const m of c.metrics) logs[m.name] = m.fn(yb, output);
          for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v * w;
        });
      }
    });
    return sums;
  }

  /** Trains for `epochs` over mini-batches; awaits every callback. */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    // NEURITE_PROFILE=1 prints a profile of the whole fit (every epoch's steps) on stderr when it ends
    return profiledIfEnabled(`fit of ${x.shape[0] ?? 0} samples`, () => fitModel(this, x, y, options, () => this.requireCompiled("fit")));
  }

  /** A table of layers, output shapes and parameter counts. */
  summary(): string {
    return modelSummary(this);
  }

  /** Frees every weight and the optimizer's state. */
  dispose(): void {
    this.steps.reset();
    this.forwards.reset();
    for (const w of this.weights) w.dispose();
    this.compiled?.optimizer.dispose();
    this.disposed = true;
  }
}

/** Creates a {@link Sequential} model. */
export function sequential(layers: readonly LayerSpec[], options?: SequentialOptions): Sequential {
  return new Sequential(layers, options);
}
