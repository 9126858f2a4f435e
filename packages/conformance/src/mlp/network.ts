/**
 * The networks of MLP files: the architecture and activations read from the file, then built with core's
 * public API (`sequential`, dense layers, the registered activations) and run: every layer's z and a,
 * dL/dz and dL/da, the loss and every parameter's gradient.
 */
import {
  type BoundActivation, type CallContext, type Sequential, type Tensor, type Variable, activations, add, applyActivation,
  matmul, resolveActivation, scope, sequential, tensor, valueAndGrad, valueAndGradOf,
} from "@neurite/core";
import { TORCH_OPS } from "@neurite/testkit";
import { type DataSource, type LossPlan, planLoss } from "./losses.js";
import {
  ArchitectureSchema, type Json, LayerSchema, type RefTensor, type SchemaIssue, Unsupported, isObj, refTensor, sectionIssues,
} from "./schema.js";

export interface LayerDesc {
  readonly name: string;
  readonly units: number;
  readonly inputDim: number | undefined;
  readonly activation: unknown;
  readonly useBias: boolean;
}

/**
 * `architecture.layers[]`, validated by {@link ArchitectureSchema} and {@link LayerSchema}; unknown fields
 * (not prose) are reported through `unknown` with their path; a wrong value throws {@link Unsupported}.
 */
export function parseArchitecture(arch: unknown, what: string, unknown: (issue: SchemaIssue) => void): LayerDesc[] {
  const archIssues = sectionIssues(ArchitectureSchema, arch, what);
  archIssues.filter((i) => i.unknown).forEach(unknown);
  const bad = archIssues.find((i) => !i.unknown);
  if (bad) throw new Unsupported(bad.message);
  return ((arch as Json).layers as unknown[]).map((l, i) => {
    const issues = sectionIssues(LayerSchema, l, `${what}/layers[${i}]`);
    issues.filter((issue) => issue.unknown).forEach(unknown);
    const wrong = issues.find((issue) => !issue.unknown);
    if (wrong) throw new Unsupported(wrong.message);
    const layer = l as Json;
    const bias = layer.use_bias ?? layer.bias ?? true;
    return {
      name: typeof layer.name === "string" ? layer.name : `layer${i + 1}`,
      units: layer.units as number,
      inputDim: typeof layer.input_dim === "number" ? layer.input_dim : undefined,
      activation: layer.activation,
      useBias: bias !== false,
    };
  });
}

/** Layer names for case ids, without failing on a broken architecture. */
export function layerNames(arch: unknown): string[] {
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
export function bindFileActivation(spec: unknown, what: string): BoundActivation {
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
    throw new Unsupported(`${what}: activation ${JSON.stringify(name)} (Neurite "${ours}") is not registered (registered: ${activations.names().join(", ")}); register it first (conformance --plugin FILE loads your module)`);
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



export interface Setup {
  readonly layers: readonly LayerDesc[];
  readonly acts: readonly BoundActivation[];
  readonly params: ReadonlyMap<string, RefTensor>;
  readonly x: RefTensor;
  /** The loss, or why it cannot be computed (forward cases do not need it). */
  readonly loss: LossPlan | Unsupported;
}

export function needLoss(s: Setup): LossPlan {
  if (s.loss instanceof Unsupported) throw s.loss;
  return s.loss;
}

/** W1, b1, … → [layer index, "kernel" | "bias"]. */
export function paramSlot(name: string): [number, "kernel" | "bias"] | undefined {
  const m = /^([Wb])(\d+)$/.exec(name);
  if (!m) return undefined;
  return [Number(m[2]) - 1, m[1] === "W" ? "kernel" : "bias"];
}

export interface SetupInput {
  readonly architecture: unknown;
  /** Where the architecture is in the file (a variant may take its network's). */
  readonly architecturePath: string;
  readonly activations: unknown;
  readonly initialParams: unknown;
  readonly data: DataSource;
  readonly lossKind: unknown;
  readonly lossDefinition: unknown;
  readonly lastDLdaIsNull: boolean;
}

export function makeSetup(input: SetupInput, what: string): Setup {
  const layers = parseArchitecture(input.architecture, input.architecturePath, () => {});
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

export interface Net {
  readonly model: Sequential;
  readonly setup: Setup;
  readonly kernels: Variable[];
  readonly biases: (Variable | undefined)[];
  /** Trainable activation parameters (PReLU's slope) of each layer, by parameter name. */
  readonly actWeights: Record<string, Tensor>[];
}

export const toTensor = (t: RefTensor): Tensor => tensor(t.values, t.shape);

/** Builds the network with core's public API and loads the initial parameters; `fn` runs, then it is freed. */
export function withNet<T>(setup: Setup, fn: (net: Net) => T): T {
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

export function variableOf(net: Net, name: string): Variable {
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
export function outputFrom(net: Net, start: number, h: Tensor, plan: LossPlan): Tensor {
  const n = net.model.layers.length;
  for (let i = start; i < n; i++) h = i === n - 1 && plan.fromLogits ? lastLogits(net, h) : net.model.layers[i]!.instance!.call(h, CALL);
  return h;
}

export const read = (t: Tensor): number[] => Array.from(t.dataSync());

interface LayerValues {
  readonly z: number[];
  readonly zShape: readonly number[];
  readonly a: number[];
  readonly aShape: readonly number[];
}

export function computeForward(setup: Setup): LayerValues[] {
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
export function computeLayerGrads(setup: Setup): LayerGrads[] {
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

export function computeLossAndGrads(setup: Setup, names: readonly string[]): { loss: number; grads: Map<string, number[]> } {
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

