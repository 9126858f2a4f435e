/**
 * The MLP section of the reference files (mlp.json and files in its schema): fixed small networks with
 * every layer's z and a, the loss, dL/dz, dL/da, every parameter's gradient, parameters and optimizer state
 * after full-batch optimizer steps, and full-batch SGD training trajectories. Every case read is reported
 * as pass, fail or unsupported; a field this runner does not understand becomes an unsupported case that
 * names it.
 */
import {
  type BoundActivation,
  type CallContext,
  type LossSpec,
  type Optimizer,
  type Sequential,
  type Tensor,
  type Variable,
  activations,
  adam,
  adamW,
  add,
  applyActivation,
  backendInstance,
  binaryCrossEntropy,
  binaryCrossEntropyFromLogits,
  categoricalCrossEntropyFromLogits,
  mae,
  matmul,
  memory,
  mse,
  noGrad,
  resolveActivation,
  rmsprop,
  scope,
  sequential,
  setBackend,
  sgd,
  sparseCategoricalCrossEntropyFromLogits,
  tensor,
  valueAndGrad,
  valueAndGradOf,
} from "@neurite/core";
import { TORCH_OPS } from "./names.js";
import { type Tolerance, compareArrays, decodeArray, decodeNumber } from "./numbers.js";
import type { CaseResult, CaseStatus, RunOptions } from "./types.js";

/** The reference README's tolerances for MLP files. */
export const MLP_TOLERANCES = {
  forward: { rtol: 1e-5, atol: 1e-6 },
  loss: { rtol: 1e-5, atol: 1e-6 },
  grads: { rtol: 1e-4, atol: 1e-6 },
  params: { rtol: 1e-5, atol: 1e-6 },
  /** Momentum buffers and first moments are gradient-like. */
  firstMoment: { rtol: 1e-4, atol: 1e-6 },
  /** Second moments are squared gradients times (1 − β2): an atol of 1e-6 would accept anything there. */
  secondMoment: { rtol: 1e-4, atol: 1e-10 },
  /** "Check every checkpoint within 1e-5" (relative for losses above 1). */
  trajectory: { rtol: 1e-5, atol: 1e-5 },
} as const satisfies Record<string, Tolerance>;

type Json = Record<string, unknown>;

/** A case this runner cannot check; its message says why. */
class Unsupported extends Error {
  override name = "Unsupported";
}

interface Outcome {
  readonly status: CaseStatus;
  readonly maxAbsErr: number | null;
  readonly message: string;
}

interface PlannedCase {
  readonly id: string;
  readonly op: string;
  run(): Outcome;
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Free-text fields (notes, formulas in words) carry no numbers to check. */
const PROSE_KEY = /(^|_)(note|notes|description|definition|comment|comments|doc|docs|update|formula|explanation|why|source|generator|init_note)$/i;
const isProse = (key: string, value: unknown): boolean => typeof value === "string" && PROSE_KEY.test(key);

/** PyTorch's own float32 results and the generator's self-checks: informational, not reference values. */
const INFO_KEYS = new Set(["float32_torch", "self_check_max_abs_dev_numpy_vs_torch_optim", "float32_torch_max_abs_param_dev_over_steps"]);

function memo<T>(f: () => T): () => T {
  let state: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  return () => {
    if (!state) {
      try {
        state = { ok: true, value: f() };
      } catch (error) {
        state = { ok: false, error };
      }
    }
    if (!state.ok) throw state.error;
    return state.value;
  };
}

function unsupportedCase(id: string, op: string, message: string): PlannedCase {
  return { id, op, run: () => ({ status: "unsupported", maxAbsErr: null, message }) };
}

// ---------------------------------------------------------------------------------------------------------
// Reading the file

interface RefTensor {
  readonly shape: number[];
  readonly values: number[];
}

function flattenNested(v: unknown, what: string): RefTensor {
  const shape: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (x: unknown, d: number): void => {
    if (d === shape.length) {
      values.push(decodeNumber(x));
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[d]) throw new Unsupported(`${what}: ragged nested array`);
    for (const c of x) walk(c, d + 1);
  };
  walk(v, 0);
  return { shape, values };
}

/** A tensor written as `{shape, values}` (flat, row-major) or as a (nested) array. */
function refTensor(v: unknown, what: string): RefTensor {
  try {
    if (isObj(v) && "values" in v) {
      const values = decodeArray(v.values, `${what}.values`);
      const shape = v.shape === undefined ? [values.length] : v.shape;
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) throw new Unsupported(`${what}.shape is not a list of sizes: ${JSON.stringify(shape)}`);
      const dims = shape as number[];
      const size = dims.reduce((a, b) => a * b, 1);
      if (size !== values.length) throw new Unsupported(`${what}: shape [${dims.join(", ")}] holds ${size} values but ${values.length} are given`);
      return { shape: [...dims], values };
    }
    if (Array.isArray(v)) return flattenNested(v, what);
  } catch (e) {
    if (e instanceof Unsupported) throw e;
    throw new Unsupported(`${what}: ${(e as Error).message}`);
  }
  throw new Unsupported(`${what} is not a tensor ({shape, values} or an array): ${JSON.stringify(v)?.slice(0, 80)}`);
}

interface LayerDesc {
  readonly name: string;
  readonly units: number;
  readonly inputDim: number | undefined;
  readonly activation: unknown;
  readonly useBias: boolean;
}

const LAYER_KEYS = new Set(["name", "units", "input_dim", "activation", "type", "use_bias", "bias"]);

/** `architecture.layers[]`; unknown non-prose fields are reported through `unknown`. */
function parseArchitecture(arch: unknown, what: string, unknown: (key: string) => void): LayerDesc[] {
  if (!isObj(arch) || !Array.isArray(arch.layers) || arch.layers.length === 0) throw new Unsupported(`${what}: needs layers[] (got ${JSON.stringify(arch)?.slice(0, 80)})`);
  for (const [k, v] of Object.entries(arch)) if (k !== "layers" && !isProse(k, v) && k !== "dense") unknown(`${what}/${k}`);
  return (arch.layers as unknown[]).map((l, i) => {
    if (!isObj(l)) throw new Unsupported(`${what}.layers[${i}] is not an object`);
    for (const [k, v] of Object.entries(l)) if (!LAYER_KEYS.has(k) && !isProse(k, v)) unknown(`${what}/layers[${i}]/${k}`);
    const type = l.type ?? "dense";
    if (type !== "dense" && type !== "linear" && type !== "Linear" && type !== "Dense") throw new Unsupported(`${what}.layers[${i}]: layer type ${JSON.stringify(type)} (only dense layers are known)`);
    if (typeof l.units !== "number" || !Number.isInteger(l.units) || l.units < 1) throw new Unsupported(`${what}.layers[${i}].units is not a positive integer: ${JSON.stringify(l.units)}`);
    const bias = l.use_bias ?? l.bias ?? true;
    return {
      name: typeof l.name === "string" ? l.name : `layer${i + 1}`,
      units: l.units,
      inputDim: typeof l.input_dim === "number" ? l.input_dim : undefined,
      activation: l.activation,
      useBias: bias !== false,
    };
  });
}

/** Layer names for case ids, without failing on a broken architecture. */
function layerNames(arch: unknown): string[] {
  if (!isObj(arch) || !Array.isArray(arch.layers)) return [];
  return (arch.layers as unknown[]).map((l, i) => (isObj(l) && typeof l.name === "string" ? l.name : `layer${i + 1}`));
}

/** What a layer without a non-linearity is called in files; PyTorch's ops map through {@link TORCH_OPS}. */
const IDENTITY_NAMES = new Set(["identity", "linear", "none"]);

function parseParamValue(s: string): string | number | boolean {
  const t = s.trim().replace(/^['"]|['"]$/g, "");
  if (t === "True" || t === "true") return true;
  if (t === "False" || t === "false") return false;
  const n = Number(t);
  return t !== "" && Number.isFinite(n) ? n : t;
}

/** An activation from the file: "relu", "leaky_relu(negative_slope=0.2)", or {name | op, params?, ...params}. */
function bindFileActivation(spec: unknown, what: string): BoundActivation {
  let name: string;
  let given: Record<string, unknown> = {};
  if (typeof spec === "string") {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\]|\((.*)\))?\s*$/.exec(spec);
    if (!m) throw new Unsupported(`${what}: activation ${JSON.stringify(spec)} is not a name`);
    name = m[1]!;
    const args = m[2] ?? m[3];
    if (args && args.trim()) {
      for (const part of args.split(",")) {
        const [k, v] = part.split("=");
        if (!k || v === undefined) throw new Unsupported(`${what}: cannot read activation parameters ${JSON.stringify(args)}`);
        given[k.trim()] = parseParamValue(v);
      }
    }
  } else if (isObj(spec) && (typeof spec.name === "string" || typeof spec.op === "string")) {
    name = (spec.name ?? spec.op) as string;
    const rest: Json = { ...spec };
    for (const k of ["name", "op", "params"]) delete rest[k];
    given = { ...(isObj(spec.params) ? spec.params : {}), ...rest };
  } else {
    throw new Unsupported(`${what}: activation ${JSON.stringify(spec)} is neither a name nor {name, params}`);
  }
  const lower = name.toLowerCase();
  const op = TORCH_OPS[lower];
  const ours = IDENTITY_NAMES.has(lower) ? "linear" : (op?.name ?? name);
  if (!activations.has(ours)) {
    throw new Unsupported(`${what}: activation ${JSON.stringify(name)} (Neurite "${ours}") is not registered (registered: ${activations.names().join(", ")})`);
  }
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) {
    const mapped = op && k in op.params ? op.params[k] : k;
    if (mapped === null) continue; // accepted, no effect on values (inplace)
    if (mapped === "axis") {
      // a [batch, features] layer output: PyTorch's dim 1 is the last axis
      if (v !== -1 && v !== 1) throw new Unsupported(`${what}: ${name} over dim ${JSON.stringify(v)} (only the feature axis is supported)`);
      params.axis = -1;
    } else if (k === "num_parameters") {
      if (v !== 1) throw new Unsupported(`${what}: ${name} with num_parameters ${JSON.stringify(v)} (only one shared slope is supported)`);
    } else {
      params[mapped ?? k] = v;
    }
  }
  try {
    return resolveActivation({ name: ours, ...params });
  } catch (e) {
    throw new Unsupported(`${what}: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Losses

type LossKind = "softmax_cross_entropy" | "mse" | "mae" | "binary_cross_entropy";

interface LossPlan {
  readonly kind: LossKind;
  /** Whether the loss reads the last layer's pre-activation z (logits) rather than its output a. */
  readonly fromLogits: boolean;
  readonly targets: RefTensor;
  /** Integer class labels rather than one-hot targets (softmax cross-entropy). */
  readonly sparse: boolean;
  fn(targets: Tensor, out: Tensor): Tensor;
}

function normalizeLossKind(kind: unknown): { kind: LossKind; logits?: boolean } {
  const k = String(kind).toLowerCase().replace(/[^a-z0-9]+/g, "_");
  switch (k) {
    case "softmax_cross_entropy": case "cross_entropy": case "categorical_cross_entropy": case "softmax_ce": case "ce":
      return { kind: "softmax_cross_entropy", logits: true };
    case "mse": case "mean_squared_error": case "mse_loss":
      return { kind: "mse" };
    case "mae": case "l1": case "l1_loss": case "mean_absolute_error":
      return { kind: "mae" };
    case "binary_cross_entropy": case "bce": case "bce_loss":
      return { kind: "binary_cross_entropy" };
    case "binary_cross_entropy_with_logits": case "bce_with_logits": case "bcewithlogits":
      return { kind: "binary_cross_entropy", logits: true };
    default:
      throw new Unsupported(`loss_kind ${JSON.stringify(kind)} is not one this runner knows (softmax_cross_entropy, mse, mae, binary_cross_entropy)`);
  }
}

interface DataSource {
  readonly x?: unknown;
  readonly labels?: unknown;
  readonly onehot?: unknown;
  readonly y?: unknown;
}

function isLabelList(t: RefTensor, n: number): boolean {
  return t.values.length === n && t.values.every((v) => Number.isInteger(v) && v >= 0) && (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1));
}

function planLoss(
  kindField: unknown,
  definition: unknown,
  lastDLdaIsNull: boolean,
  data: DataSource,
  n: number,
  outUnits: number,
): LossPlan {
  if (kindField === undefined) throw new Unsupported("loss_kind is missing");
  const { kind, logits } = normalizeLossKind(kindField);
  const def = typeof definition === "string" ? definition : "";
  const outShape = [n, outUnits];
  const reshaped = (t: RefTensor, what: string): RefTensor => {
    if (t.values.length !== n * outUnits) throw new Unsupported(`${what} holds ${t.values.length} values; the network outputs ${n}×${outUnits}`);
    return { shape: outShape, values: t.values };
  };
  switch (kind) {
    case "softmax_cross_entropy": {
      const labels = data.labels !== undefined ? refTensor(data.labels, "labels") : undefined;
      const onehot = data.onehot !== undefined ? refTensor(data.onehot, "onehot") : undefined;
      const y = data.y !== undefined ? refTensor(data.y, "y") : undefined;
      const asLabels = labels ?? (y && isLabelList(y, n) ? y : undefined);
      if (asLabels) {
        if (!isLabelList(asLabels, n) || asLabels.values.some((v) => v >= outUnits)) throw new Unsupported(`labels are not ${n} class indices in [0, ${outUnits - 1}]`);
        return { kind, fromLogits: true, sparse: true, targets: { shape: [n], values: asLabels.values }, fn: sparseCategoricalCrossEntropyFromLogits };
      }
      const t = onehot ?? y;
      if (!t) throw new Unsupported("softmax_cross_entropy needs labels, onehot or y");
      return { kind, fromLogits: true, sparse: false, targets: reshaped(t, "onehot"), fn: categoricalCrossEntropyFromLogits };
    }
    case "mse":
    case "mae": {
      const src = data.onehot ?? data.y;
      if (src === undefined) throw new Unsupported(`${kind} needs onehot or y`);
      return { kind, fromLogits: false, sparse: false, targets: reshaped(refTensor(src, "targets"), "targets"), fn: kind === "mse" ? mse : mae };
    }
    case "binary_cross_entropy": {
      const src = data.y ?? data.labels;
      if (src === undefined) throw new Unsupported("binary_cross_entropy needs y");
      // PyTorch's BCELoss takes probabilities; BCEWithLogitsLoss (or a null dL/da of the output) reads the logits
      const fromLogits = logits === true || /with_?logits|from (the )?logits/i.test(def) || lastDLdaIsNull;
      return {
        kind,
        fromLogits,
        sparse: false,
        targets: reshaped(refTensor(src, "y"), "y"),
        fn: fromLogits ? binaryCrossEntropyFromLogits : binaryCrossEntropy,
      };
    }
  }
}

/** The same loss as a compile() spec, where one exists for this last layer (so trainOnBatch can run it). */
function compileSpec(plan: LossPlan, last: BoundActivation): LossSpec | undefined {
  const lastName = last.plugin.name;
  switch (plan.kind) {
    case "softmax_cross_entropy": {
      const name = plan.sparse ? "sparseCategoricalCrossEntropy" : "categoricalCrossEntropy";
      if (lastName === "softmax") return name; // the model fuses softmax and cross-entropy through the logits
      return lastName === "linear" ? { name, fromLogits: true } : undefined;
    }
    case "mse":
    case "mae":
      return plan.kind;
    case "binary_cross_entropy":
      if (!plan.fromLogits) return "binaryCrossEntropy";
      return lastName === "linear" ? { name: "binaryCrossEntropy", fromLogits: true } : undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Building and running the network

interface Setup {
  readonly layers: readonly LayerDesc[];
  readonly acts: readonly BoundActivation[];
  readonly params: ReadonlyMap<string, RefTensor>;
  readonly x: RefTensor;
  /** The loss, or why it cannot be computed (forward cases do not need it). */
  readonly loss: LossPlan | Unsupported;
}

function needLoss(s: Setup): LossPlan {
  if (s.loss instanceof Unsupported) throw s.loss;
  return s.loss;
}

/** W1, b1, … → [layer index, "kernel" | "bias"]. */
function paramSlot(name: string): [number, "kernel" | "bias"] | undefined {
  const m = /^([Wb])(\d+)$/.exec(name);
  if (!m) return undefined;
  return [Number(m[2]) - 1, m[1] === "W" ? "kernel" : "bias"];
}

interface SetupInput {
  readonly architecture: unknown;
  readonly activations: unknown;
  readonly initialParams: unknown;
  readonly data: DataSource;
  readonly lossKind: unknown;
  readonly lossDefinition: unknown;
  readonly lastDLdaIsNull: boolean;
}

function makeSetup(input: SetupInput, what: string, unknown: (key: string) => void): Setup {
  const layers = parseArchitecture(input.architecture, `${what}/architecture`, unknown);
  const actSpecs = input.activations !== undefined ? input.activations : layers.map((l) => l.activation);
  if (!Array.isArray(actSpecs) || actSpecs.length !== layers.length) {
    throw new Unsupported(`${what}: activations must list one activation per layer (${layers.length}), got ${JSON.stringify(actSpecs)}`);
  }
  const acts = actSpecs.map((a, i) => bindFileActivation(a, `${what}/activations[${i}]`));
  if (input.data.x === undefined) throw new Unsupported(`${what}: x is missing`);
  const x = refTensor(input.data.x, `${what}/x`);
  if (x.shape.length !== 2) throw new Unsupported(`${what}: x must be [batch, features], got shape [${x.shape.join(", ")}]`);
  if (!isObj(input.initialParams)) throw new Unsupported(`${what}: initial_params is missing`);
  const params = new Map<string, RefTensor>();
  for (const [k, v] of Object.entries(input.initialParams)) {
    const slot = paramSlot(k);
    if (!slot || slot[0] >= layers.length || (slot[1] === "bias" && !layers[slot[0]]!.useBias)) {
      throw new Unsupported(`${what}: initial_params has "${k}", which is not a parameter of this network (W1, b1, …)`);
    }
    params.set(k, refTensor(v, `${what}/initial_params/${k}`));
  }
  layers.forEach((l, i) => {
    if (!params.has(`W${i + 1}`) || (l.useBias && !params.has(`b${i + 1}`))) throw new Unsupported(`${what}: initial_params lacks W${i + 1} or b${i + 1}`);
  });
  let loss: LossPlan | Unsupported;
  try {
    loss = planLoss(input.lossKind, input.lossDefinition, input.lastDLdaIsNull, input.data, x.shape[0]!, layers[layers.length - 1]!.units);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
    loss = e;
  }
  return { layers, acts, params, x, loss };
}

const CALL: CallContext = { training: false, nextSeed: () => 0 };

interface Net {
  readonly model: Sequential;
  readonly setup: Setup;
  readonly kernels: Variable[];
  readonly biases: (Variable | undefined)[];
  /** Trainable activation parameters (PReLU's slope) of each layer, by parameter name. */
  readonly actWeights: Record<string, Tensor>[];
}

const toTensor = (t: RefTensor): Tensor => tensor(t.values, t.shape);

/** Builds the network with core's public API and loads the initial parameters; `fn` runs, then it is freed. */
function withNet<T>(setup: Setup, fn: (net: Net) => T): T {
  const specs = setup.layers.map((l, i) => ({
    type: "dense" as const,
    units: l.units,
    activation: setup.acts[i]!,
    useBias: l.useBias,
    ...(i === 0 ? { inputShape: [setup.x.shape[1]!] } : {}),
  }));
  const model = sequential(specs);
  try {
    const find = (i: number, suffix: string): Variable | undefined => model.layers[i]!.weights.find((w) => w.name.endsWith(`/${suffix}`));
    const kernels = setup.layers.map((_, i) => find(i, "kernel")!);
    const biases = setup.layers.map((_, i) => find(i, "bias"));
    for (const [name, ref] of setup.params) {
      const [i, kind] = paramSlot(name)!;
      const v = kind === "kernel" ? kernels[i]! : biases[i]!;
      if (ref.shape.length !== v.shape.length || ref.shape.some((d, k) => d !== v.shape[k])) {
        throw new Unsupported(`initial_params ${name} has shape [${ref.shape.join(", ")}]; the layer's ${kind} is [${v.shape.join(", ")}] (kernels are [in, out])`);
      }
      scope(() => v.assign(toTensor(ref)));
    }
    const actWeights = model.layers.map((l) =>
      Object.fromEntries(l.weights.filter((w) => w.name.includes("/activation.")).map((w) => [w.name.slice(w.name.indexOf("/activation.") + 12), w as Tensor])),
    );
    return fn({ model, setup, kernels, biases, actWeights });
  } finally {
    model.dispose();
  }
}

function variableOf(net: Net, name: string): Variable {
  const slot = paramSlot(name);
  const v = slot ? (slot[1] === "kernel" ? net.kernels[slot[0]] : net.biases[slot[0]]) : undefined;
  if (!v) throw new Unsupported(`"${name}" is not a parameter of this network (W1, b1, …)`);
  return v;
}

/** z = h·W + b of layer i, from the layer's own weights. */
function preActivation(net: Net, i: number, h: Tensor): Tensor {
  const z = matmul(h, net.kernels[i]!);
  const b = net.biases[i];
  return b ? add(z, b) : z;
}

/** The last layer's logits through the model's own path where it has one. */
function lastLogits(net: Net, h: Tensor): Tensor {
  const last = net.model.layers.length - 1;
  const inst = net.model.layers[last]!.instance!;
  if (inst.logits) return inst.logits(h, CALL);
  if (net.setup.acts[last]!.plugin.name === "linear") return inst.call(h, CALL);
  return preActivation(net, last, h);
}

/** What the loss reads (the output, or the logits), from the activations `h` entering layer `start`. */
function outputFrom(net: Net, start: number, h: Tensor, plan: LossPlan): Tensor {
  const n = net.model.layers.length;
  for (let i = start; i < n; i++) h = i === n - 1 && plan.fromLogits ? lastLogits(net, h) : net.model.layers[i]!.instance!.call(h, CALL);
  return h;
}

const read = (t: Tensor): number[] => Array.from(t.dataSync());

interface LayerValues {
  readonly z: number[];
  readonly zShape: readonly number[];
  readonly a: number[];
  readonly aShape: readonly number[];
}

function computeForward(setup: Setup): LayerValues[] {
  return withNet(setup, (net) =>
    scope(() => {
      let h = toTensor(setup.x);
      return net.model.layers.map((layer, i) => {
        const z = preActivation(net, i, h);
        const a = layer.instance!.call(h, CALL);
        h = a;
        return { z: read(z), zShape: z.shape, a: read(a), aShape: a.shape };
      });
    }),
  );
}

interface LayerGrads {
  readonly dz: number[];
  /** Undefined where the output a is not on the loss's path (loss from the logits). */
  readonly da: number[] | undefined;
}

/** dL/dz and dL/da of every layer: the rest of the network as a function of that intermediate, differentiated. */
function computeLayerGrads(setup: Setup): LayerGrads[] {
  const plan = needLoss(setup);
  return withNet(setup, (net) =>
    scope(() => {
      const t = toTensor(plan.targets);
      const n = net.model.layers.length;
      let h = toTensor(setup.x);
      const out: LayerGrads[] = [];
      for (let i = 0; i < n; i++) {
        const z = preActivation(net, i, h);
        const a = net.model.layers[i]!.instance!.call(h, CALL);
        const lastLogitsLoss = i === n - 1 && plan.fromLogits;
        const dz = valueAndGrad((zz: Tensor) =>
          plan.fn(t, lastLogitsLoss ? zz : outputFrom(net, i + 1, applyActivation(zz, setup.acts[i]!, net.actWeights[i]), plan)),
        )(z).grads[0]!;
        const da = lastLogitsLoss ? undefined : valueAndGrad((aa: Tensor) => plan.fn(t, outputFrom(net, i + 1, aa, plan)))(a).grads[0]!;
        out.push({ dz: read(dz), da: da ? read(da) : undefined });
        h = a;
      }
      return out;
    }),
  );
}

function computeLossAndGrads(setup: Setup, names: readonly string[]): { loss: number; grads: Map<string, number[]> } {
  const plan = needLoss(setup);
  return withNet(setup, (net) =>
    scope(() => {
      const vars = names.map((k) => variableOf(net, k));
      const x = toTensor(setup.x);
      const t = toTensor(plan.targets);
      const { value, grads } = valueAndGradOf(() => plan.fn(t, outputFrom(net, 0, x, plan)), vars);
      return { loss: value.item(), grads: new Map(names.map((k, i) => [k, read(grads[i]!)])) };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Optimizers

const HYPER_KEYS = new Set(["lr", "momentum", "dampening", "nesterov", "beta1", "beta2", "betas", "eps", "weight_decay", "amsgrad", "alpha", "centered"]);
/** PyTorch implementation switches that do not change the numbers. */
const NEUTRAL_HYPER = new Set(["foreach", "capturable", "differentiable", "fused"]);

function num(hyper: Json, key: string, def: number): number {
  const v = hyper[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "number") throw new Unsupported(`hyper ${key} is not a number: ${JSON.stringify(v)}`);
  return v;
}

function flag(hyper: Json, key: string, def: boolean): boolean {
  const v = hyper[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") throw new Unsupported(`hyper ${key} is not true/false: ${JSON.stringify(v)}`);
  return v;
}

/** An optimizer from a section name (sgd, sgd_momentum, nesterov, adam, adamw, rmsprop, …) and PyTorch hyper-parameters. */
function makeOptimizer(kind: string, hyper: Json): Optimizer {
  for (const [k, v] of Object.entries(hyper)) {
    if (HYPER_KEYS.has(k) || isProse(k, v)) continue;
    if (NEUTRAL_HYPER.has(k) && (v === null || v === false)) continue;
    if (k === "maximize" && v === false) continue;
    throw new Unsupported(`hyper-parameter ${k} = ${JSON.stringify(v)} is not one this runner knows (${[...HYPER_KEYS].join(", ")})`);
  }
  const k = kind.toLowerCase();
  let betas: [number, number] = [num(hyper, "beta1", 0.9), num(hyper, "beta2", 0.999)];
  if (hyper.betas !== undefined) {
    const b = hyper.betas;
    if (!Array.isArray(b) || b.length !== 2 || b.some((v) => typeof v !== "number")) throw new Unsupported(`hyper betas is not [beta1, beta2]: ${JSON.stringify(b)}`);
    betas = [b[0] as number, b[1] as number];
  }
  if (/^(sgd|momentum|nesterov)/.test(k)) {
    return sgd({
      lr: num(hyper, "lr", 1e-3),
      momentum: num(hyper, "momentum", k.includes("momentum") || k.includes("nesterov") ? 0.9 : 0),
      dampening: num(hyper, "dampening", 0),
      nesterov: flag(hyper, "nesterov", k.includes("nesterov")),
      weightDecay: num(hyper, "weight_decay", 0),
    });
  }
  if (/^(adam|amsgrad)/.test(k)) {
    const decoupled = k.startsWith("adamw") || k.startsWith("adam_w");
    const options = {
      lr: num(hyper, "lr", 1e-3),
      beta1: betas[0],
      beta2: betas[1],
      eps: num(hyper, "eps", 1e-8),
      weightDecay: num(hyper, "weight_decay", decoupled ? 1e-2 : 0),
      amsgrad: flag(hyper, "amsgrad", k.includes("amsgrad")),
    };
    return decoupled ? adamW(options) : adam(options);
  }
  if (k.startsWith("rmsprop")) {
    return rmsprop({
      lr: num(hyper, "lr", 1e-2),
      alpha: num(hyper, "alpha", 0.99),
      eps: num(hyper, "eps", 1e-8),
      momentum: num(hyper, "momentum", 0),
      centered: flag(hyper, "centered", k.includes("centered")),
      weightDecay: num(hyper, "weight_decay", 0),
    });
  }
  throw new Unsupported(`optimizer ${JSON.stringify(kind)} is not one this runner knows (sgd, sgd_momentum, nesterov, adam, adamw, amsgrad, rmsprop)`);
}

/** Per-parameter state recorded by a step: the file's name → the optimizer's buffer name and tolerance. */
const STATE_FIELDS: Readonly<Record<string, { key: string; tol: Tolerance }>> = {
  momentum_buffer_after: { key: "momentum", tol: MLP_TOLERANCES.firstMoment },
  adam_m_after: { key: "m", tol: MLP_TOLERANCES.firstMoment },
  exp_avg_after: { key: "m", tol: MLP_TOLERANCES.firstMoment },
  adam_v_after: { key: "v", tol: MLP_TOLERANCES.secondMoment },
  exp_avg_sq_after: { key: "v", tol: MLP_TOLERANCES.secondMoment },
  adam_vmax_after: { key: "vMax", tol: MLP_TOLERANCES.secondMoment },
  adam_v_max_after: { key: "vMax", tol: MLP_TOLERANCES.secondMoment },
  max_exp_avg_sq_after: { key: "vMax", tol: MLP_TOLERANCES.secondMoment },
  square_avg_after: { key: "squareAvg", tol: MLP_TOLERANCES.secondMoment },
  grad_avg_after: { key: "gradAvg", tol: MLP_TOLERANCES.firstMoment },
};
const STEP_KEYS = new Set(["step", "lr", "loss_before_step", "loss_after_step", "params_after", ...Object.keys(STATE_FIELDS)]);

interface StepRecord {
  readonly lossBefore: number;
  readonly params: Map<string, number[]>;
  /** buffer name → parameter name → values */
  readonly state: Map<string, Map<string, number[]>>;
}

interface StepRequest {
  /** Parameter names whose values (and state) this step records. */
  readonly names: readonly string[];
  readonly stateKeys: readonly string[];
  readonly lr: number | undefined;
}

/**
 * Full-batch training from the initial parameters with a fresh optimizer for `steps` steps; step k (1-based)
 * is recorded where `requests` asks. Uses the model's own trainOnBatch where the loss has a compile() form.
 * `losses[k]` is the full-batch loss after k updates, for every k from 0 to `steps`.
 */
function train(setup: Setup, makeOpt: () => Optimizer, steps: number, requests: ReadonlyMap<number, StepRequest>): { records: Map<number, StepRecord>; losses: number[] } {
  const plan = needLoss(setup);
  return withNet(setup, (net) =>
    scope(() => {
      const optimizer = makeOpt();
      const spec = compileSpec(plan, setup.acts[setup.acts.length - 1]!);
      if (spec !== undefined) net.model.compile({ optimizer, loss: spec });
      const x = toTensor(setup.x);
      const t = toTensor(plan.targets);
      const params = net.model.trainableWeights;
      const records = new Map<number, StepRecord>();
      const losses: number[] = [];
      try {
        for (let k = 1; k <= steps; k++) {
          const req = requests.get(k);
          if (req?.lr !== undefined) optimizer.lr = req.lr;
          if (spec !== undefined) {
            losses.push(net.model.trainOnBatch(x, t).loss!);
          } else {
            losses.push(
              scope(() => {
                const { value, grads } = valueAndGradOf(() => plan.fn(t, outputFrom(net, 0, x, plan)), params);
                optimizer.step(params, grads);
                return value.item();
              }),
            );
          }
          if (!req) continue;
          const state = new Map<string, Map<string, number[]>>();
          for (const key of req.stateKeys) {
            const m = new Map<string, number[]>();
            for (const name of req.names) {
              const held = optimizer.state?.(variableOf(net, name));
              if (!held) throw new Unsupported(`optimizer ${optimizer.name} does not expose its state`);
              const buf = held[key];
              if (!buf) throw new Unsupported(`optimizer ${optimizer.name} keeps no "${key}" buffer (it has: ${Object.keys(held).join(", ") || "none"})`);
              m.set(name, read(buf));
            }
            state.set(key, m);
          }
          records.set(k, { lossBefore: losses[k - 1]!, params: new Map(req.names.map((name) => [name, read(variableOf(net, name))])), state });
        }
        losses.push(noGrad(() => scope(() => plan.fn(t, outputFrom(net, 0, x, plan)).item())));
      } finally {
        if (spec === undefined) optimizer.dispose(); // a compiled optimizer goes with the model
      }
      return { records, losses };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Comparison

/** Accumulates the comparisons of one case. */
class Check {
  private maxAbsErr: number | null = null;
  private readonly problems: string[] = [];

  values(what: string, expected: readonly number[], actual: ArrayLike<number>, tol: Tolerance, shapes?: { expected?: readonly number[]; actual?: readonly number[] }): void {
    if (shapes?.expected && shapes.actual && (shapes.expected.length !== shapes.actual.length || shapes.expected.some((d, i) => d !== shapes.actual![i]))) {
      this.problems.push(`${what}: shape [${shapes.actual.join(", ")}], expected [${shapes.expected.join(", ")}]`);
      return;
    }
    const c = compareArrays(expected, actual, tol);
    if (Number.isFinite(c.maxAbsErr)) this.maxAbsErr = Math.max(this.maxAbsErr ?? 0, c.maxAbsErr);
    if (!c.ok) {
      const b = c.firstBad!;
      this.problems.push(
        b.index < 0
          ? `${what}: ${b.actual} values, expected ${b.expected}`
          : `${what}[${b.index}] = ${b.actual}, expected ${b.expected} (rtol ${tol.rtol}, atol ${tol.atol}; max |err| ${c.maxAbsErr.toExponential(2)})`,
      );
    }
  }

  outcome(): Outcome {
    if (this.maxAbsErr === null && this.problems.length === 0) return { status: "unsupported", maxAbsErr: null, message: "nothing to compare" };
    return { status: this.problems.length ? "fail" : "pass", maxAbsErr: this.maxAbsErr, message: this.problems.join("; ") };
  }
}

/** Values of a named-parameter map entry: `{shape, values}` or a plain array. */
function namedTensors(v: unknown, what: string): Map<string, RefTensor> {
  if (!isObj(v)) throw new Unsupported(`${what} is not an object of named tensors`);
  return new Map(Object.entries(v).map(([k, t]) => [k, refTensor(t, `${what}/${k}`)]));
}

// ---------------------------------------------------------------------------------------------------------
// Planning the cases of a file

const VARIANT_DATA_KEYS = ["architecture", "initial_params", "x", "labels", "onehot", "y"] as const;
const VARIANT_KEYS = new Set(["activations", "loss_kind", "loss_definition", "forward", "loss", "grads", "optimizers", ...VARIANT_DATA_KEYS]);
const FORWARD_KEYS = new Set(["layer", "activation", "z_shape", "a_shape", "z", "a", "dL_dz", "dL_da"]);
const NETWORK_KEYS = new Set(["architecture", "initial_params", "x", "labels", "onehot", "y", "variants"]);

function planOptimizer(out: PlannedCase[], prefix: string, kind: string, section: unknown, setup: () => Setup): void {
  const op = `mlp/optimizers/${kind}`;
  const base = `${prefix}/optimizers/${kind}`;
  if (!isObj(section)) {
    out.push(unsupportedCase(base, op, `optimizers.${kind} is not an object`));
    return;
  }
  for (const [k, v] of Object.entries(section)) {
    if (!["hyper", "steps", "loss_after_last_step"].includes(k) && !isProse(k, v)) out.push(unsupportedCase(`${base}/${k}`, op, `unknown field optimizers.${kind}.${k}`));
  }
  const hyper = isObj(section.hyper) ? section.hyper : {};
  const steps = Array.isArray(section.steps) ? (section.steps as unknown[]) : [];
  if (!Array.isArray(section.steps)) out.push(unsupportedCase(`${base}/steps`, op, `optimizers.${kind}.steps is not a list`));
  // the steps are one run: step k of a fresh optimizer from initial_params
  const requests = new Map<number, StepRequest>();
  const parsed: { n: number; step: Json }[] = [];
  steps.forEach((s, i) => {
    const n = isObj(s) && typeof s.step === "number" && Number.isInteger(s.step) && s.step >= 1 ? s.step : undefined;
    if (!isObj(s) || n === undefined) {
      out.push(unsupportedCase(`${base}/steps[${i}]`, op, `steps[${i}] has no step number ≥ 1`));
      return;
    }
    const names = isObj(s.params_after) ? Object.keys(s.params_after) : [];
    for (const f of Object.keys(STATE_FIELDS)) if (isObj(s[f])) names.push(...Object.keys(s[f]).filter((k) => !names.includes(k)));
    requests.set(n, {
      names,
      stateKeys: Object.keys(STATE_FIELDS).filter((f) => s[f] !== undefined && s[f] !== null).map((f) => STATE_FIELDS[f]!.key),
      lr: typeof s.lr === "number" ? s.lr : undefined,
    });
    parsed.push({ n, step: s });
  });
  const last = Math.max(0, ...parsed.map((p) => p.n));
  const run = memo(() => train(setup(), () => makeOptimizer(kind, hyper), last, requests));
  for (const { n, step } of parsed) {
    const id = `${base}/step ${n}`;
    for (const [k, v] of Object.entries(step)) if (!STEP_KEYS.has(k) && !isProse(k, v)) out.push(unsupportedCase(`${id}/${k}`, op, `unknown field ${k} in optimizers.${kind}.steps (step ${n})`));
    out.push({
      id,
      op,
      run: () => {
        const rec = run().records.get(n)!;
        const c = new Check();
        if (step.loss_before_step !== undefined) c.values("loss_before_step", [decodeNumber(step.loss_before_step)], [rec.lossBefore], MLP_TOLERANCES.loss);
        if (step.loss_after_step !== undefined) c.values("loss_after_step", [decodeNumber(step.loss_after_step)], [run().losses[n]!], MLP_TOLERANCES.loss);
        if (step.params_after !== undefined) {
          for (const [name, ref] of namedTensors(step.params_after, "params_after")) c.values(`params_after.${name}`, ref.values, rec.params.get(name)!, MLP_TOLERANCES.params);
        }
        for (const [field, { key, tol }] of Object.entries(STATE_FIELDS)) {
          if (step[field] === undefined || step[field] === null) continue;
          for (const [name, ref] of namedTensors(step[field], field)) c.values(`${field}.${name}`, ref.values, rec.state.get(key)!.get(name)!, tol);
        }
        return c.outcome();
      },
    });
  }
  if (section.loss_after_last_step !== undefined) {
    out.push({
      id: `${base}/loss after step ${last}`,
      op,
      run: () => {
        if (last === 0) throw new Unsupported("loss_after_last_step without steps");
        const c = new Check();
        c.values("loss_after_last_step", [decodeNumber(section.loss_after_last_step)], [run().losses[last]!], MLP_TOLERANCES.loss);
        return c.outcome();
      },
    });
  }
}

function planVariant(out: PlannedCase[], prefix: string, network: Json, variant: unknown): void {
  if (!isObj(variant)) {
    out.push(unsupportedCase(prefix, "mlp", `variant ${prefix} is not an object`));
    return;
  }
  for (const [k, v] of Object.entries(variant)) {
    if (!VARIANT_KEYS.has(k) && !INFO_KEYS.has(k) && !isProse(k, v)) out.push(unsupportedCase(`${prefix}/${k}`, "mlp", `unknown field ${k} in variant ${prefix}`));
  }
  const pick = (k: (typeof VARIANT_DATA_KEYS)[number]): unknown => (variant[k] !== undefined ? variant[k] : network[k]);
  const forward = Array.isArray(variant.forward) ? (variant.forward as unknown[]) : [];
  const names = layerNames(pick("architecture"));
  const lastForward = forward.find((f) => isObj(f) && f.layer === names.length) ?? forward[names.length - 1];
  const lastDLdaIsNull = isObj(lastForward) && "dL_da" in lastForward && lastForward.dL_da === null;
  const setup = memo(() =>
    makeSetup(
      {
        architecture: pick("architecture"),
        activations: variant.activations,
        initialParams: pick("initial_params"),
        data: { x: pick("x"), labels: pick("labels"), onehot: pick("onehot"), y: pick("y") },
        lossKind: variant.loss_kind,
        lossDefinition: variant.loss_definition,
        lastDLdaIsNull,
      },
      prefix,
      () => {},
    ),
  );
  // unknown architecture fields are reported once, at planning
  try {
    parseArchitecture(pick("architecture"), `${prefix}/architecture`, (key) => out.push(unsupportedCase(key, "mlp", `unknown architecture field ${key}`)));
  } catch {
    // reported by every case through setup()
  }
  const fwd = memo(() => computeForward(setup()));
  const layerGrads = memo(() => computeLayerGrads(setup()));

  if (variant.forward !== undefined && !Array.isArray(variant.forward)) out.push(unsupportedCase(`${prefix}/forward`, "mlp/forward", "forward is not a list"));
  forward.forEach((item, j) => {
    if (!isObj(item)) {
      out.push(unsupportedCase(`${prefix}/forward[${j}]`, "mlp/forward", `forward[${j}] is not an object`));
      return;
    }
    const index = typeof item.layer === "number" ? item.layer - 1 : j;
    const name = names[index] ?? `layer${index + 1}`;
    for (const [k, v] of Object.entries(item)) {
      if (!FORWARD_KEYS.has(k) && !isProse(k, v)) out.push(unsupportedCase(`${prefix}/forward/${name}/${k}`, "mlp/forward", `unknown field ${k} in forward[${j}]`));
    }
    const present = (k: string): boolean => item[k] !== undefined && item[k] !== null;
    if (present("z") || present("a")) {
      out.push({
        id: `${prefix}/forward/${name}`,
        op: "mlp/forward",
        run: () => {
          const got = fwd()[index];
          if (!got) throw new Unsupported(`forward[${j}] names layer ${index + 1}; the network has ${names.length}`);
          const c = new Check();
          const zShape = Array.isArray(item.z_shape) ? (item.z_shape as number[]) : undefined;
          if (present("z")) c.values("z", decodeArray(item.z, "z"), got.z, MLP_TOLERANCES.forward, { expected: zShape, actual: got.zShape });
          if (present("a")) c.values("a", decodeArray(item.a, "a"), got.a, MLP_TOLERANCES.forward, { expected: (item.a_shape as number[] | undefined) ?? zShape, actual: got.aShape });
          return c.outcome();
        },
      });
    }
    for (const [field, key] of [["dL_dz", "dz"], ["dL_da", "da"]] as const) {
      if (!present(field)) continue;
      out.push({
        id: `${prefix}/${field}/${name}`,
        op: `mlp/${field}`,
        run: () => {
          const got = layerGrads()[index];
          if (!got) throw new Unsupported(`forward[${j}] names layer ${index + 1}; the network has ${names.length}`);
          const actual = got[key];
          if (!actual) throw new Unsupported(`${field} of ${name}: the loss is computed from the logits, so the output a is not on the gradient path`);
          const c = new Check();
          c.values(field, decodeArray(item[field], field), actual, MLP_TOLERANCES.grads);
          return c.outcome();
        },
      });
    }
  });

  const gradNames = isObj(variant.grads) ? Object.keys(variant.grads) : [];
  const lossGrads = memo(() => computeLossAndGrads(setup(), gradNames.filter((k) => paramSlot(k))));
  if (variant.loss !== undefined) {
    out.push({
      id: `${prefix}/loss`,
      op: "mlp/loss",
      run: () => {
        const c = new Check();
        c.values("loss", [decodeNumber(variant.loss)], [lossGrads().loss], MLP_TOLERANCES.loss);
        return c.outcome();
      },
    });
  }
  if (variant.grads !== undefined && !isObj(variant.grads)) out.push(unsupportedCase(`${prefix}/grads`, "mlp/grads", "grads is not an object"));
  for (const k of gradNames) {
    out.push({
      id: `${prefix}/grads/${k}`,
      op: "mlp/grads",
      run: () => {
        if (!paramSlot(k)) throw new Unsupported(`grads has "${k}", which is not a parameter of this network (W1, b1, …)`);
        const ref = refTensor((variant.grads as Json)[k], `grads/${k}`);
        const actual = lossGrads().grads.get(k)!;
        const c = new Check();
        c.values(k, ref.values, actual, MLP_TOLERANCES.grads);
        return c.outcome();
      },
    });
  }
  if (variant.optimizers !== undefined) {
    if (!isObj(variant.optimizers)) out.push(unsupportedCase(`${prefix}/optimizers`, "mlp/optimizers", "optimizers is not an object"));
    else for (const [kind, section] of Object.entries(variant.optimizers)) planOptimizer(out, prefix, kind, section, setup);
  }
}

function planNetwork(out: PlannedCase[], key: string, network: Json): void {
  const prefix = key === "small_mlp" ? "" : `${key}/`;
  for (const [k, v] of Object.entries(network)) {
    if (!NETWORK_KEYS.has(k) && !isProse(k, v)) out.push(unsupportedCase(`${key}/${k}`, "mlp", `unknown field ${k} in ${key}`));
  }
  if (!isObj(network.variants)) {
    out.push(unsupportedCase(`${key}/variants`, "mlp", `${key}.variants is not an object`));
    return;
  }
  for (const [name, variant] of Object.entries(network.variants)) planVariant(out, `${prefix}${name}`, network, variant);
}

const TRAJECTORY_KEYS = new Set(["name", "dataset", "architecture", "activations", "initial_params", "optimizer", "loss_kind", "loss_definition", "checkpoints"]);

function planTrajectory(out: PlannedCase[], index: number, tr: unknown): void {
  const base = isObj(tr) && typeof tr.name === "string" ? tr.name : `training_trajectories[${index}]`;
  const op = "mlp/training_trajectories";
  if (!isObj(tr)) {
    out.push(unsupportedCase(base, op, `training_trajectories[${index}] is not an object`));
    return;
  }
  for (const [k, v] of Object.entries(tr)) if (!TRAJECTORY_KEYS.has(k) && !isProse(k, v)) out.push(unsupportedCase(`${base}/${k}`, op, `unknown field ${k} in ${base}`));
  const dataset = isObj(tr.dataset) ? tr.dataset : {};
  for (const [k, v] of Object.entries(dataset)) {
    // scalars describe how the data were generated (n, seed, noise); arrays are data this runner must use
    if (!["x", "y", "labels", "onehot"].includes(k) && typeof v === "object" && v !== null) out.push(unsupportedCase(`${base}/dataset/${k}`, op, `unknown data ${k} in ${base}.dataset`));
  }
  const checkpoints: [number, unknown][] = [];
  if (isObj(tr.checkpoints)) {
    for (const [k, v] of Object.entries(tr.checkpoints)) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 0) out.push(unsupportedCase(`${base}/checkpoint ${k}`, op, `checkpoint ${JSON.stringify(k)} is not a step count`));
      else checkpoints.push([n, v]);
    }
  } else if (Array.isArray(tr.checkpoints)) {
    tr.checkpoints.forEach((c, i) => {
      if (isObj(c) && typeof c.step === "number" && c.loss !== undefined) checkpoints.push([c.step, c.loss]);
      else out.push(unsupportedCase(`${base}/checkpoints[${i}]`, op, `checkpoints[${i}] is not {step, loss}`));
    });
  } else {
    out.push(unsupportedCase(`${base}/checkpoints`, op, `${base}.checkpoints is missing`));
  }
  const setup = memo(() => {
    const s = makeSetup(
      {
        architecture: tr.architecture,
        activations: tr.activations,
        initialParams: tr.initial_params,
        data: { x: dataset.x, labels: dataset.labels, onehot: dataset.onehot, y: dataset.y },
        lossKind: tr.loss_kind,
        lossDefinition: tr.loss_definition,
        lastDLdaIsNull: false,
      },
      base,
      () => {},
    );
    needLoss(s);
    return s;
  });
  try {
    parseArchitecture(tr.architecture, `${base}/architecture`, (key) => out.push(unsupportedCase(key, op, `unknown architecture field ${key}`)));
  } catch {
    // reported by every checkpoint through setup()
  }
  const opt = tr.optimizer;
  const optimizer = (): Optimizer => {
    if (typeof opt === "string") return makeOptimizer(opt, {});
    if (!isObj(opt) || typeof opt.name !== "string") throw new Unsupported(`${base}.optimizer is not {name, lr, …}: ${JSON.stringify(opt)}`);
    const { name, ...hyper } = opt;
    return makeOptimizer(name, hyper);
  };
  const last = Math.max(0, ...checkpoints.map(([k]) => k));
  const run = memo(() => train(setup(), optimizer, last, new Map()).losses);
  for (const [k, v] of checkpoints.sort((a, b) => a[0] - b[0])) {
    out.push({
      id: `${base}/checkpoint ${k}`,
      op,
      run: () => {
        const c = new Check();
        c.values(`loss after ${k} steps`, [decodeNumber(v)], [run()[k]!], MLP_TOLERANCES.trajectory);
        return c.outcome();
      },
    });
  }
}

function planFile(json: unknown): PlannedCase[] {
  const out: PlannedCase[] = [];
  if (!isObj(json)) return [unsupportedCase("file", "mlp", "an MLP reference file must be a JSON object")];
  for (const [key, value] of Object.entries(json)) {
    if (key === "meta") continue; // conventions in words; the schema itself is what is checked
    if (key === "training_trajectories") {
      if (!Array.isArray(value)) out.push(unsupportedCase(key, "mlp/training_trajectories", "training_trajectories is not a list"));
      else value.forEach((tr, i) => planTrajectory(out, i, tr));
    } else if (isObj(value) && "architecture" in value && "variants" in value) {
      planNetwork(out, key, value);
    } else {
      out.push(unsupportedCase(key, "mlp", `unknown section "${key}" (not a network with architecture + variants, nor training_trajectories)`));
    }
  }
  return out;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs every case of an MLP reference file (mlp.json's schema) on each of `options.backends`, which must be
 * registered. Networks are built with core's public API (`sequential`, dense layers, the registered
 * activations), gradients come from autograd, optimizer steps from core's optimizers. The previously
 * active backend is active again afterwards.
 *
 * Case ids: `VARIANT/forward/LAYER`, `VARIANT/loss`, `VARIANT/dL_dz/LAYER`, `VARIANT/dL_da/LAYER`,
 * `VARIANT/grads/PARAM`, `VARIANT/optimizers/KIND/step N`, `VARIANT/optimizers/KIND/loss after step N`,
 * `TRAJECTORY/checkpoint K`; networks other than `small_mlp` prefix theirs with `NETWORK/`. An unknown field
 * is reported under its path.
 *
 * @returns one result per case and backend: pass, fail (with the first mismatch) or unsupported (with the
 *   reason: an activation that is not registered, an unknown loss, optimizer, section or field).
 */
export async function runMlpFile(json: unknown, options: RunOptions): Promise<CaseResult[]> {
  const previous = memory().backend?.name;
  const results: CaseResult[] = [];
  try {
    for (const backend of options.backends) {
      const cases = planFile(json);
      let setupError: string | undefined;
      try {
        await backendInstance(backend);
        await setBackend(backend);
      } catch (e) {
        setupError = `backend ${backend} could not be started: ${describe(e)}`;
      }
      for (const c of cases) {
        let outcome: Outcome;
        if (setupError) {
          outcome = { status: "fail", maxAbsErr: null, message: setupError };
        } else {
          try {
            outcome = c.run();
          } catch (e) {
            outcome = e instanceof Unsupported ? { status: "unsupported", maxAbsErr: null, message: e.message } : { status: "fail", maxAbsErr: null, message: describe(e) };
          }
        }
        results.push({ file: options.file, id: c.id, backend, op: c.op, ...outcome });
      }
    }
  } finally {
    if (previous !== undefined) await setBackend(previous);
  }
  return results;
}
