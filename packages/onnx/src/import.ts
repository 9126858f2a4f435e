import {
  type ActivationPlugin, type BoundActivation, DEFAULT_MAX_MODEL_BYTES, type Expr, NeuriteError, parseFormula, type LayerSpec, type Sequential, activationProgram, activations, bindActivation,
  constant, fromValues, input, layers as layerRegistry, sequential, trainableParams,
} from "@neurite/core";
import { OnnxError } from "./errors.js";
import { type ExportedLayerRecord, METADATA_KEYS } from "./export.js";
import { exactOperator } from "./exact.js";
import { formulaText, onnxFormula } from "./formula-activation.js";
import { GraphBuilder } from "./graph.js";
import { Emitter, lowerExpr } from "./lower.js";
import { type AttributeProto, type GraphProto, type ModelProto, type NodeProto, DataType, decodeModel } from "./proto.js";
import { constantTensor, readTensor } from "./tensors.js";

/** The opsets of the default domain {@link importOnnx} reads (what torch.onnx.export and tf2onnx write by default fall inside). */
export const MIN_IMPORT_OPSET = 13;
export const MAX_IMPORT_OPSET = 21;

/** Options of {@link importOnnx}. */
export interface ImportOnnxOptions {
  /**
   * The largest file accepted, in bytes; default 256 MiB (as loadModel). Every tensor's size is also checked
   * against the bytes the file holds before anything is allocated.
   */
  readonly maxBytes?: number;
  /** The model's name; default the graph's name. */
  readonly name?: string;
  /** The model's seed (dropout, shuffling when training continues); default 0. */
  readonly seed?: number;
}

/** Operators that map onto a registered activation, and how their attributes become its parameters. */
const ACTIVATION_OPS: Readonly<Record<string, (node: NodeProto, attrs: Attributes) => { name: string; params: Record<string, unknown> } | undefined>> = {
  Relu: () => ({ name: "relu", params: {} }),
  LeakyRelu: (_n, a) => ({ name: "leakyRelu", params: { alpha: f32(a.float("alpha", 0.01)) } }),
  Elu: (_n, a) => ({ name: "elu", params: { alpha: f32(a.float("alpha", 1)) } }),
  Celu: (_n, a) => ({ name: "celu", params: { alpha: f32(a.float("alpha", 1)) } }),
  Selu: (_n, a) =>
    Math.fround(a.float("alpha", 1.6732632423543772)) === Math.fround(1.6732632423543772) && Math.fround(a.float("gamma", 1.0507009873554805)) === Math.fround(1.0507009873554805)
      ? { name: "selu", params: {} } : undefined,
  Sigmoid: () => ({ name: "sigmoid", params: {} }),
  Tanh: () => ({ name: "tanh", params: {} }),
  HardSigmoid: (_n, a) =>
    Math.fround(a.float("alpha", 0.2)) === Math.fround(1 / 6) && Math.fround(a.float("beta", 0.5)) === 0.5 ? { name: "hardSigmoid", params: {} } : undefined,
  HardSwish: () => ({ name: "hardSwish", params: {} }),
  Softsign: () => ({ name: "softsign", params: {} }),
  Softplus: () => ({ name: "softplus", params: {} }),
  Mish: () => ({ name: "mish", params: {} }),
  Gelu: (_n, a) => ({ name: "gelu", params: { approximate: a.string("approximate", "none") } }),
};

/** Elementwise operators an imported subgraph may hold, as expressions over their operands. */
const ELEMENTWISE: Readonly<Record<string, (args: Expr[], attrs: Attributes) => Expr>> = {
  Add: ([a, b]) => a!.add(b!), Sub: ([a, b]) => a!.sub(b!), Mul: ([a, b]) => a!.mul(b!), Div: ([a, b]) => a!.div(b!), Pow: ([a, b]) => a!.pow(b!),
  Min: (xs) => xs.reduce((a, b) => a.min(b)), Max: (xs) => xs.reduce((a, b) => a.max(b)),
  Neg: ([a]) => a!.neg(), Abs: ([a]) => a!.abs(), Sign: ([a]) => a!.sign(), Exp: ([a]) => a!.exp(), Log: ([a]) => a!.log(), Sqrt: ([a]) => a!.sqrt(),
  Tanh: ([a]) => a!.tanh(), Sigmoid: ([a]) => a!.sigmoid(), Erf: ([a]) => a!.erf(), Floor: ([a]) => a!.floor(), Ceil: ([a]) => a!.neg().floor().neg(),
  Sin: ([a]) => a!.sin(), Cos: ([a]) => a!.cos(), Tan: ([a]) => a!.tan(), Atan: ([a]) => a!.atan(), Sinh: ([a]) => a!.sinh(), Cosh: ([a]) => a!.cosh(),
  Asinh: ([a]) => a!.asinh(), Atanh: ([a]) => a!.atanh(), Reciprocal: ([a]) => a!.reciprocal(), Round: ([a]) => a!.round(), IsNaN: ([a]) => a!.isNaN(),
  IsInf: ([a]) => a!.abs().eq(Infinity),
  Less: ([a, b]) => a!.lt(b!), LessOrEqual: ([a, b]) => a!.le(b!), Greater: ([a, b]) => a!.gt(b!), GreaterOrEqual: ([a, b]) => a!.ge(b!), Equal: ([a, b]) => a!.eq(b!),
  Not: ([a]) => a!.eq(0), And: ([a, b]) => a!.ne(0).mul(b!.ne(0)), Or: ([a, b]) => a!.ne(0).add(b!.ne(0)).gt(0),
  Where: ([c, a, b]) => c!.where(a!, b!),
  Relu: ([a]) => a!.lt(0).where(0, a!),
  LeakyRelu: ([a], at) => a!.gt(0).where(a!, a!.mul(f32(at.float("alpha", 0.01)))),
  Softplus: ([a]) => a!.gt(20).where(a!, a!.exp().log1p()),
  Softsign: ([a]) => a!.div(a!.abs().add(1)),
  Identity: ([a]) => a!,
  // a cast to float or bool of a 0/1 or float value; other casts are refused below
  Cast: ([a]) => a!,
};

const f32 = (v: number): number => Math.fround(v);

/** The NCHW operators that become `@neurite/layers-conv` layers, and the Transposes around them. */
/** The layer types the image operators become, all from `@neurite/layers-conv`. */
const CONV_LAYER_TYPES = ["conv2d", "maxPool2d", "avgPool2d", "globalAveragePooling2d", "batchNormalization"];

const IMAGE_OPS = ["Transpose", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization"];

/**
 * The order of the value the walk has reached: Neurite's (channels last), ONNX's NCHW inside a conv block, or
 * the [batch, channels, 1, 1] of a GlobalAveragePool that a Flatten turns into globalAveragePooling2d's output.
 */
type WalkLayout = "channelsLast" | "channelsFirst" | "pooled";

const NCHW_INPUT_HELP =
  "Neurite's conv layers read NHWC images, and Neurite has no layer that permutes axes, so an NCHW graph input (what torch.onnx.export writes for a CNN) is not imported: " +
  "put x.permute(0, 3, 1, 2) at the start of the PyTorch model's forward and export it with an NHWC example input, then feed NHWC data";

/** The operators importOnnx understands, for the report of unsupported ones (and `neurite-onnx check`). */
export const SUPPORTED_IMPORT_OPS: ReadonlySet<string> = new Set([
  "Gemm", "MatMul", "Flatten", "Reshape", "LayerNormalization", "Softmax", "LogSoftmax", "Identity", "Dropout", "Constant", "PRelu", "Clip", "Pad",
  ...IMAGE_OPS,
  ...Object.keys(ACTIVATION_OPS), ...Object.keys(ELEMENTWISE),
]);

class Attributes {
  private readonly byName = new Map<string, AttributeProto>();
  constructor(node: NodeProto, private readonly where: string) {
    for (const a of node.attribute ?? []) if (a.name) this.byName.set(a.name, a);
  }
  float(name: string, fallback: number): number {
    return this.byName.get(name)?.f ?? fallback;
  }
  int(name: string, fallback: number): number {
    return this.byName.get(name)?.i ?? fallback;
  }
  ints(name: string, fallback: readonly number[]): number[] {
    const a = this.byName.get(name);
    return a?.ints && a.ints.length > 0 ? a.ints.map(Number) : [...fallback];
  }
  string(name: string, fallback: string): string {
    const s = this.byName.get(name)?.s;
    return s ? new TextDecoder().decode(s) : fallback;
  }
  expectOnly(allowed: readonly string[]): void {
    for (const k of this.byName.keys()) {
      if (!allowed.includes(k)) throw new OnnxError(`${this.where}: attribute ${k} is not supported (supported: ${allowed.join(", ") || "none"})`);
    }
  }
}

interface Constant {
  readonly dims: readonly number[];
  readonly values: Float32Array | number[];
}

function describe(node: NodeProto, index: number): string {
  return `node ${index} (${node.op_type ?? "?"}${node.name ? ` "${node.name}"` : ""})`;
}

/** The operators of a decoded model, each with where it is, and whether importOnnx supports it. */
export function graphOperators(model: ModelProto): { opType: string; node: string; supported: boolean }[] {
  return (model.graph?.node ?? []).map((n, i) => ({
    opType: n.domain && n.domain !== "ai.onnx" ? `${n.domain}:${n.op_type ?? "?"}` : (n.op_type ?? "?"),
    node: describe(n, i),
    supported: (!n.domain || n.domain === "ai.onnx") && SUPPORTED_IMPORT_OPS.has(n.op_type ?? ""),
  }));
}

/** Decodes bytes into a ModelProto, as an OnnxError when they are not one. */
export function decodeOnnx(bytes: Uint8Array | ArrayBuffer, maxBytes = DEFAULT_MAX_MODEL_BYTES): ModelProto {
  const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
  if (!view) throw new OnnxError(`importOnnx: expected the file's bytes as a Uint8Array or ArrayBuffer, got ${bytes === null ? "null" : typeof bytes}`);
  if (view.byteLength > maxBytes) throw new OnnxError(`importOnnx: the file has ${view.byteLength} bytes, more than the cap of ${maxBytes}; raise it with { maxBytes } if you trust the file`);
  let model: ModelProto;
  try {
    model = decodeModel(view);
  } catch (e) {
    throw new OnnxError(`importOnnx: the bytes are not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  if (!model.graph) throw new OnnxError("importOnnx: the bytes decode to a message with no graph; is this an ONNX model file (.onnx)?");
  return model;
}

/** What the walk over the graph builds: layer specs and their weights by local name. */
interface PendingLayer {
  spec: Record<string, unknown>;
  weights: Record<string, Float32Array>;
  /** The Neurite layer the nodes came from, when the file says so (node names `layer/…`). */
  origin?: string;
}

class GraphReader {
  readonly constants = new Map<string, Constant>();
  readonly producers = new Map<string, { node: NodeProto; index: number }>();
  readonly consumers = new Map<string, number[]>();
  readonly used = new Set<number>();
  readonly nodes: NodeProto[];

  constructor(readonly graph: GraphProto, readonly maxElements: number) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) {
      const name = t.name ?? "";
      this.constants.set(name, readTensor(t, maxElements, `initializer "${name}"`));
    }
    this.nodes.forEach((n, i) => {
      if (n.op_type === "Constant" && (!n.domain || n.domain === "ai.onnx")) {
        const attr = n.attribute?.[0];
        const t = attr ? constantTensor(attr) : undefined;
        if (!t || (n.attribute?.length ?? 0) !== 1) throw new OnnxError(`${describe(n, i)}: a Constant needs exactly one value, value_float(s) or value_int(s) attribute`);
        this.constants.set(n.output?.[0] ?? "", readTensor(t, maxElements, describe(n, i)));
        this.used.add(i);
        return;
      }
      // torch.onnx.export keeps one copy of equal initializers (an untrained BatchNorm's weight and running
      // variance) and gives the other name through an Identity: that name is the same weight
      const aliased = n.op_type === "Identity" && (!n.domain || n.domain === "ai.onnx") ? this.constants.get(n.input?.[0] ?? "") : undefined;
      if (aliased && (n.output ?? []).length === 1) {
        this.constants.set(n.output![0]!, aliased);
        this.used.add(i);
        return;
      }
      for (const o of n.output ?? []) if (o) this.producers.set(o, { node: n, index: i });
      for (const x of n.input ?? []) if (x) this.consumers.set(x, [...(this.consumers.get(x) ?? []), i]);
    });
  }

  /** A float tensor constant by value name, or an error naming the node that needs it. */
  constant(name: string | undefined, what: string): Constant {
    const c = name === undefined ? undefined : this.constants.get(name);
    if (!c) throw new OnnxError(`${what}: input "${name ?? ""}" must be a weight (an initializer or a Constant); computed weights are not supported`);
    return c;
  }

  /** A scalar constant (any shape of one element), or undefined. */
  scalar(name: string): number | undefined {
    const c = this.constants.get(name);
    return c && c.values.length === 1 ? Number(c.values[0]) : undefined;
  }

  consumersOf(name: string): number[] {
    return (this.consumers.get(name) ?? []).filter((i) => !this.used.has(i));
  }
}

/** The Neurite layer a node came from, read from export's node names `layer/Op`. */
function originOf(node: NodeProto): string | undefined {
  const name = node.name ?? "";
  const slash = name.indexOf("/");
  return slash > 0 ? name.slice(0, slash) : undefined;
}

/** A canonical form of the subgraph computing `out` from `x`: what a metadata claim is checked against. */
function canonical(out: string, x: string, producer: (name: string) => NodeProto | undefined, scalar: (name: string) => number | undefined): string {
  const memo = new Map<string, string>();
  const visit = (v: string, depth: number): string => {
    if (depth > 2000) throw new OnnxError("importOnnx: an activation subgraph nests deeper than 2000 nodes");
    if (v === x) return "x";
    const known = memo.get(v);
    if (known) return known;
    const node = producer(v);
    let s: string;
    if (node) {
      const attrs = (node.attribute ?? []).map((a) => `${a.name}=${a.f !== undefined ? Math.fround(a.f) : a.i ?? (a.s ? new TextDecoder().decode(a.s) : "")}`).sort().join(",");
      s = `${node.op_type}[${attrs}](${(node.input ?? []).map((i) => visit(i, depth + 1)).join(",")})`;
    } else {
      const c = scalar(v);
      s = c === undefined ? `@${v}` : `#${Object.is(c, -0) ? "-0" : String(Math.fround(c))}`;
    }
    memo.set(v, s);
    return s;
  };
  return visit(out, 0);
}

/**
 * Reads an ONNX model as a trainable Sequential. Gemm and MatMul (+ Add) become dense layers, Flatten and
 * Reshape (to [batch, features]) flatten, LayerNormalization layerNormalization, Softmax / LogSoftmax the softmax
 * family's activations, Identity and Dropout nothing; Conv, MaxPool, AveragePool, GlobalAveragePool and
 * BatchNormalization between NHWC → NCHW → NHWC Transposes become `@neurite/layers-conv`'s layers (register
 * `convLayers` first; an NCHW graph input is refused with how to export NHWC); an activation operator becomes the registered activation
 * of the same semantics (Relu → relu, …), and any other purely elementwise subgraph becomes an
 * {@link onnxFormula} activation. A file written by {@link exportOnnx} comes back with its own activations
 * (user-declared ones included, when registered) once the graph is checked to compute exactly what they do,
 * so the round trip predicts exactly like the original.
 *
 * The file is untrusted: its size is capped, every tensor's size is checked against the bytes it holds before
 * anything is allocated, and anything that is not understood is refused with the list of unsupported
 * operators and where they are; a failure leaves nothing allocated.
 *
 * @throws {@link OnnxError}
 */
export function importOnnx(bytes: Uint8Array | ArrayBuffer, options: ImportOnnxOptions = {}): Sequential {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new OnnxError(`importOnnx: maxBytes must be a positive integer, got ${String(maxBytes)}`);
  const model = decodeOnnx(bytes, maxBytes);
  const graph = model.graph!;
  const opset = (model.opset_import ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version;
  if (opset === undefined || opset < MIN_IMPORT_OPSET || opset > MAX_IMPORT_OPSET) {
    throw new OnnxError(`importOnnx: the file uses opset ${String(opset)} of the default domain; importOnnx reads opsets ${MIN_IMPORT_OPSET} to ${MAX_IMPORT_OPSET} (re-export it, e.g. torch.onnx.export(..., opset_version=17))`);
  }
  const unsupported = graphOperators(model).filter((o) => !o.supported);
  if (unsupported.length > 0) {
    // a Reshape whose target is computed from the input's Shape is what x.view(x.size(0), -1) exports to
    const viewHint = unsupported.some((o) => o.opType === "Shape")
      ? " (a Shape feeding a Reshape is what PyTorch writes for x.view(x.size(0), -1) or x.reshape(x.size(0), -1): use torch.flatten(x, 1) or nn.Flatten() instead)"
      : "";
    throw new OnnxError(`importOnnx: the graph holds operators importOnnx does not support: ${unsupported.map((o) => o.node).join(", ")}${viewHint}. Supported: ${[...SUPPORTED_IMPORT_OPS].sort().join(", ")}`);
  }
  // a float32 element takes 4 bytes of the file at least (raw or packed), so no tensor holds more than this
  const view = bytes instanceof ArrayBuffer ? bytes.byteLength : bytes.byteLength;
  let reader: GraphReader;
  try {
    reader = new GraphReader(graph, Math.ceil(view / 4) + 16);
  } catch (e) {
    if (e instanceof NeuriteError) throw e;
    throw new OnnxError(`importOnnx: the graph's tensors are malformed (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1 || (graph.output ?? []).length !== 1) {
    throw new OnnxError(`importOnnx: a Sequential has one input and one output; the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")}) and ${(graph.output ?? []).length} outputs`);
  }
  const inputInfo = inputs[0]!;
  const tensorType = inputInfo.type?.tensor_type;
  if (tensorType?.elem_type !== DataType.FLOAT) throw new OnnxError(`importOnnx: input "${inputInfo.name}" must be float32 (elem_type 1), got elem_type ${String(tensorType?.elem_type)}`);
  const dims = tensorType.shape?.dim ?? [];
  const inputShape = dims.slice(1).map((d, i) => {
    if (d.dim_value === undefined || !Number.isSafeInteger(d.dim_value) || d.dim_value < 1) {
      throw new OnnxError(`importOnnx: input "${inputInfo.name}" needs a fixed size on every axis but the batch axis; axis ${i + 1} is ${d.dim_param ?? String(d.dim_value)}`);
    }
    return d.dim_value;
  });
  if (dims.length < 2) throw new OnnxError(`importOnnx: input "${inputInfo.name}" must have a batch axis and at least one feature axis, got rank ${dims.length}`);

  const records = new Map<string, ExportedLayerRecord>();
  const meta = (model.metadata_props ?? []).find((p) => p.key === METADATA_KEYS.layers)?.value;
  if (meta) {
    try {
      const parsed = JSON.parse(meta) as unknown;
      if (Array.isArray(parsed)) for (const r of parsed as ExportedLayerRecord[]) if (r && typeof r.name === "string") records.set(r.name, r);
    } catch {
      // a damaged record only loses the claims: the graph alone is still read
    }
  }

  let layers: PendingLayer[];
  try {
    layers = walk(reader, inputInfo.name!, graph.output![0]!.name!, inputShape, records, opset);
  } catch (e) {
    if (e instanceof NeuriteError) throw e;
    // a malformed message that slipped past the checks above (a missing field, a cycle) is still the file's fault
    throw new OnnxError(`importOnnx: the graph is malformed (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  // the image layers come from a plugin package: say which one, before the core's generic unknown-layer message
  const missing = [...new Set(layers.map((l) => l.spec.type as string))].filter((t) => CONV_LAYER_TYPES.includes(t) && !layerRegistry.has(t));
  if (missing.length > 0) {
    throw new OnnxError(`importOnnx: the graph needs the layers ${missing.join(", ")} of @neurite/layers-conv, which are not registered: install @neurite/layers-conv and call use(convLayers) before importOnnx`);
  }
  let result: Sequential | undefined;
  try {
    const specs = layers.map((l, i) => (i === 0 ? { ...l.spec, inputShape } : l.spec)) as LayerSpec[];
    result = sequential(specs, { name: options.name ?? (graph.name || "imported"), seed: options.seed ?? 0 });
    // built here, not only through the first layer's inputShape: a flatten first keeps no inputShape in its config
    result.build(inputShape);
    result.layers.forEach((layer, i) => {
      for (const w of layer.weights) {
        const local = w.name.slice(layer.name.length + 1);
        const values = layers[i]!.weights[local];
        if (!values || values.length !== w.size) throw new OnnxError(`importOnnx: layer ${layer.name} needs weight ${local} of shape [${w.shape.join(", ")}], the file gives ${values ? values.length : "none"} values`);
        const t = fromValues(values, w.shape);
        w.assign(t);
        t.dispose();
      }
    });
  } catch (e) {
    result?.dispose();
    if (e instanceof OnnxError) throw e;
    throw new OnnxError(`importOnnx: the graph's layers do not build: ${(e as Error).message}`, { cause: e });
  }
  return result;
}

function walk(reader: GraphReader, inputName: string, outputName: string, inputShape: readonly number[], records: Map<string, ExportedLayerRecord>, opset: number): PendingLayer[] {
  const layers: PendingLayer[] = [];
  let cur = inputName;
  let shape = [...inputShape];
  let layout: WalkLayout = "channelsLast";
  const take = (i: number): NodeProto => {
    reader.used.add(i);
    return reader.nodes[i]!;
  };
  const pushActivation = (act: BoundActivation, weights: Record<string, Float32Array>, origin: string | undefined): void => {
    const last = layers[layers.length - 1];
    const lastAct = last?.spec.activation as BoundActivation | undefined;
    // an activation right after a dense without one folds into it, unless the file says they were two layers
    const sameLayer = origin === undefined || last?.origin === origin;
    if (last && (last.spec.type === "dense" || last.spec.type === "conv2d") && (lastAct === undefined || lastAct.plugin.name === "linear") && sameLayer && (records.size === 0 || origin !== undefined)) {
      last.spec.activation = act;
      for (const [k, v] of Object.entries(weights)) last.weights[`activation.${k}`] = v;
      return;
    }
    layers.push({ spec: { type: "activation", activation: act }, weights, ...(origin ? { origin } : {}) });
  };
  let guard = 0;
  while (cur !== outputName) {
    if (++guard > reader.nodes.length + 1) throw new OnnxError("importOnnx: the graph does not lead from its input to its output as a chain of layers");
    const next = reader.consumersOf(cur);
    if (next.length === 0) throw new OnnxError(`importOnnx: value "${cur}" is not used by any node and is not the graph's output "${outputName}"`);
    const first = reader.nodes[next[0]!]!;
    const op = first.op_type ?? "";
    const where = describe(first, next[0]!);
    const attrs = new Attributes(first, where);
    const origin = originOf(first);
    if (next.length === 1 && ["Gemm", "MatMul", "Flatten", "Reshape", "LayerNormalization", "Softmax", "LogSoftmax", "Identity", "Dropout", "PRelu", "Clip", "Pad", ...IMAGE_OPS].includes(op) && (first.input?.[0] === cur)) {
      take(next[0]!);
      const out = first.output?.[0] ?? "";
      if (op === "Pad") {
        checkEmptyPad(reader, first, where, attrs, out);
        cur = out;
        continue;
      }
      if (IMAGE_OPS.includes(op)) {
        const step = imageStep(reader, first, where, attrs, shape, layout, records.get(origin ?? ""));
        if (step.layer) layers.push({ ...step.layer, ...(origin ? { origin } : {}) });
        shape = step.shape;
        layout = step.layout;
        cur = out;
        continue;
      }
      if (layout === "pooled" && (op === "Flatten" || op === "Reshape")) {
        // GlobalAveragePool's [batch, channels, 1, 1] flattened is globalAveragePooling2d's [batch, channels]
        if (op === "Flatten" && attrs.int("axis", 1) !== 1) throw new OnnxError(`${where}: Flatten with axis ${attrs.int("axis", 1)}; only axis 1 (keep the batch axis) follows a GlobalAveragePool`);
        if (op === "Reshape") {
          const target = reader.constant(first.input?.[1], where).values.map(Number);
          if (!(target.length === 2 && (target[0] === 0 || target[0] === -1) && (target[1] === -1 || target[1] === shape[0]))) throw new OnnxError(`${where}: Reshape to [${target.join(", ")}] after a GlobalAveragePool; only [batch, channels] is supported`);
        }
        layout = "channelsLast";
        cur = out;
        continue;
      }
      if (layout !== "channelsLast" && !["Identity", "Dropout", "Clip", "PRelu"].includes(op)) {
        throw new OnnxError(`${where}: ${op} reads the NCHW output of a conv block, but Neurite's layers read channels last; the graph must Transpose it back (perm [0, 2, 3, 1]) first${layout === "pooled" ? " or Flatten it" : ""}`);
      }
      switch (op) {
        case "Identity":
        case "Dropout":
          if ((first.output ?? []).filter(Boolean).length > 1 && reader.consumersOf(first.output![1]!).length > 0) throw new OnnxError(`${where}: its mask output is used; only inference graphs are imported`);
          break;
        case "Gemm":
        case "MatMul": {
          const features = shape[shape.length - 1]!;
          if (op === "Gemm") {
            attrs.expectOnly(["alpha", "beta", "transA", "transB"]);
            if (attrs.int("transA", 0) !== 0) throw new OnnxError(`${where}: transA = 1 (a transposed input) is not a dense layer`);
            if (shape.length !== 1) throw new OnnxError(`${where}: Gemm needs 2-D input, but its input has shape [batch, ${shape.join(", ")}]`);
          }
          const b = reader.constant(first.input?.[1], where);
          const transB = op === "Gemm" && attrs.int("transB", 0) === 1;
          if (b.dims.length !== 2) throw new OnnxError(`${where}: its weight must be 2-D, got dims [${b.dims.join(", ")}]`);
          const [rows, cols] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
          if (rows !== features) throw new OnnxError(`${where}: its weight has ${rows} input features, the value reaching it has ${features}`);
          const alpha = op === "Gemm" ? attrs.float("alpha", 1) : 1;
          const kernel = new Float32Array(rows * cols);
          for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) kernel[r * cols + c] = alpha * Number(transB ? b.values[c * rows + r] : b.values[r * cols + c]);
          let biasName = op === "Gemm" ? first.input?.[2] : undefined;
          let result = out;
          if (op === "MatMul") {
            // MatMul + Add of a constant vector is a dense layer with a bias
            const adds = reader.consumersOf(out);
            const add = adds.length === 1 ? reader.nodes[adds[0]!]! : undefined;
            if (add?.op_type === "Add") {
              const other = add.input?.[0] === out ? add.input?.[1] : add.input?.[0];
              const c = other !== undefined ? reader.constants.get(other) : undefined;
              if (c && c.values.length === cols && c.dims.filter((d) => d !== 1).length <= 1) {
                reader.used.add(adds[0]!);
                biasName = other;
                result = add.output?.[0] ?? "";
              }
            }
          }
          const weights: Record<string, Float32Array> = { kernel };
          if (biasName) {
            const c = reader.constant(biasName, where);
            const beta = op === "Gemm" ? attrs.float("beta", 1) : 1;
            const bias = new Float32Array(cols);
            if (c.values.length === 1) bias.fill(beta * Number(c.values[0]));
            else if (c.values.length === cols) c.values.forEach((v, i) => { bias[i] = beta * Number(v); });
            else throw new OnnxError(`${where}: its bias has ${c.values.length} values, the layer has ${cols} units`);
            weights.bias = bias;
          }
          layers.push({ spec: { type: "dense", units: cols, useBias: biasName !== undefined, kernelInitializer: "zeros" }, weights, ...(origin ? { origin } : {}) });
          shape = [...shape.slice(0, -1), cols];
          cur = result;
          continue;
        }
        case "Flatten": {
          attrs.expectOnly(["axis"]);
          if (attrs.int("axis", 1) !== 1) throw new OnnxError(`${where}: Flatten with axis ${attrs.int("axis", 1)}; only axis 1 (keep the batch axis) is a flatten layer`);
          layers.push({ spec: { type: "flatten" }, weights: {} });
          shape = [shape.reduce((a, b) => a * b, 1)];
          break;
        }
        case "Reshape": {
          const target = reader.constant(first.input?.[1], where).values.map(Number);
          const features = shape.reduce((a, b) => a * b, 1);
          const ok = target.length === 2 && (target[0] === 0 || target[0] === -1) && (target[1] === -1 || target[1] === features) && !(target[0] === -1 && target[1] === -1);
          if (!ok) throw new OnnxError(`${where}: Reshape to [${target.join(", ")}]; only a reshape to [batch, features] (a flatten) is supported`);
          layers.push({ spec: { type: "flatten" }, weights: {} });
          shape = [features];
          break;
        }
        case "LayerNormalization": {
          attrs.expectOnly(["axis", "epsilon", "stash_type"]);
          const axis = attrs.int("axis", -1);
          if (axis !== -1 && axis !== shape.length) throw new OnnxError(`${where}: LayerNormalization over axis ${axis}; only the last axis is a layerNormalization layer`);
          const features = shape[shape.length - 1]!;
          const gamma = reader.constant(first.input?.[1], where);
          const beta = first.input?.[2] ? reader.constant(first.input[2], where) : undefined;
          for (const [n, c] of [["scale", gamma], ["bias", beta]] as const) {
            if (c && c.values.length !== features) throw new OnnxError(`${where}: its ${n} has ${c.values.length} values for ${features} features`);
          }
          layers.push({
            spec: { type: "layerNormalization", epsilon: f32(attrs.float("epsilon", 1e-5)), scale: true, center: beta !== undefined },
            weights: { gamma: Float32Array.from(gamma.values, Number), ...(beta ? { beta: Float32Array.from(beta.values, Number) } : {}) },
          });
          if ((first.output ?? []).filter(Boolean).length > 1) throw new OnnxError(`${where}: its Mean / InvStdDev outputs are used; only the normalised output is supported`);
          break;
        }
        case "Softmax":
        case "LogSoftmax": {
          attrs.expectOnly(["axis"]);
          const name = op === "Softmax" ? "softmax" : "logSoftmax";
          pushActivation(bindActivation(registered(name, where), { axis: attrs.int("axis", -1) }), {}, origin);
          break;
        }
        case "PRelu": {
          const slope = reader.constant(first.input?.[1], where);
          const features = shape[shape.length - 1]!;
          if (slope.values.length !== 1 && slope.values.length !== features) throw new OnnxError(`${where}: PRelu slope has ${slope.values.length} values; one or one per feature (${features}) is supported`);
          const plugin = registered("prelu", where);
          if (slope.values.length !== 1) {
            // a per-channel slope needs a per-channel declaration: a generated one when prelu shares one slope
            throw new OnnxError(`${where}: PRelu with one slope per channel (${features}) has no Neurite activation yet (prelu learns one shared slope)`);
          }
          pushActivation(bindActivation(plugin, { alpha: Number(slope.values[0]) }), { alpha: Float32Array.from(slope.values, Number) }, origin);
          break;
        }
        case "Clip": {
          const lo = first.input?.[1] ? reader.scalar(first.input[1]) : -Infinity;
          const hi = first.input?.[2] ? reader.scalar(first.input[2]) : Infinity;
          if (lo === undefined || hi === undefined) throw new OnnxError(`${where}: Clip bounds must be scalar constants`);
          pushActivation(lo === 0 && hi === 6 ? bindActivation(registered("relu6", where)) : bindActivation(registered("hardTanh", where), { minVal: lo, maxVal: hi }), {}, origin);
          break;
        }
      }
      cur = out;
      continue;
    }
    // an elementwise region: every node reachable from cur through elementwise operators whose other inputs are scalars
    // in NCHW order a per-feature constant would broadcast over the wrong axis: only scalars are read there
    const region = elementwiseRegion(reader, cur, layout === "channelsLast" ? shape[shape.length - 1]! : 1);
    if (region.nodes.length === 0) throw new OnnxError(`${where}: ${op} cannot continue the chain of layers here (it is not a layer and not an elementwise function of "${cur}" alone)`);
    for (const i of region.nodes) reader.used.add(i);
    const claimed = region.origin ? records.get(region.origin)?.activation : undefined;
    const verified = claimed ? verifyClaim(reader, claimed, region, cur, opset) : undefined;
    if (verified) pushActivation(verified.act, verified.weights, region.origin);
    else {
      const single = region.nodes.length === 1 ? reader.nodes[region.nodes[0]!]! : undefined;
      const mapped = single ? ACTIVATION_OPS[single.op_type ?? ""]?.(single, new Attributes(single, where)) : undefined;
      if (mapped) pushActivation(bindActivation(registered(mapped.name, where), mapped.params), {}, region.origin);
      else pushActivation(bindActivation(onnxFormula, { formula: regionFormula(reader, region, cur) }), {}, region.origin);
    }
    cur = region.output;
  }
  if (layout !== "channelsLast") {
    throw new OnnxError(`importOnnx: the graph's output "${outputName}" is in NCHW order (${layout === "pooled" ? "[batch, channels, 1, 1]" : "[batch, channels, height, width]"}); Neurite's layers give channels last: end the graph with ${layout === "pooled" ? "a Flatten" : "a Transpose (perm [0, 2, 3, 1])"}`);
  }
  const left = reader.nodes.map((n, i) => ({ n, i })).filter(({ i }) => !reader.used.has(i));
  if (left.length > 0) throw new OnnxError(`importOnnx: ${left.map(({ n, i }) => describe(n, i)).join(", ")} do not lie on the chain from the input to the output`);
  return layers;
}

/**
 * A Pad that pads nothing is the identity: torch.onnx.export writes one before every AveragePool of an
 * `AvgPool2d(count_include_pad=True)`, PyTorch's default, with zero pads when the pooling has no padding. Any
 * other Pad has no Neurite layer and is refused, with the fix for the pattern PyTorch writes.
 */
function checkEmptyPad(reader: GraphReader, node: NodeProto, where: string, attrs: Attributes, out: string): void {
  attrs.expectOnly(["mode"]);
  const pads = reader.constant(node.input?.[1], where).values.map(Number);
  if (pads.every((p) => p === 0)) return;
  const consumers = reader.consumersOf(out).map((i) => reader.nodes[i]!);
  const fix = consumers.length === 1 && consumers[0]!.op_type === "AveragePool"
    ? "PyTorch writes this Pad for AvgPool2d(padding > 0) with count_include_pad=True, its default, which counts the padding in the average; Neurite's avgPool2d does not: export the model with AvgPool2d(..., count_include_pad=False)"
    : "pad with the Conv's or pooling's own padding instead (Neurite's \"same\", TensorFlow's rule, or none)";
  throw new OnnxError(`${where}: Pad with pads [${pads.join(", ")}] has no Neurite layer (its conv and pooling layers pad only as "same" or "valid", and there is no padding layer); ${fix}`);
}

/** TensorFlow's "same" pads of one axis [before, after], Neurite's convention (the extra row after). */
function sameAxisPads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Neurite's padding for ONNX `pads` [top, left, bottom, right] (or `auto_pad`): all zero is "valid"; TensorFlow's
 * "same" split (what exportOnnx writes, and SAME_UPPER) is "same"; anything else has no Neurite form.
 */
function readPadding(attrs: Attributes, where: string, size: readonly [number, number], kernel: readonly number[], strides: readonly number[], dilation: readonly number[]): "valid" | "same" {
  const [ph, pw] = [sameAxisPads(size[0], kernel[0]!, strides[0]!, dilation[0]!), sameAxisPads(size[1], kernel[1]!, strides[1]!, dilation[1]!)];
  const same = [ph[0], pw[0], ph[1], pw[1]];
  const autoPad = attrs.string("auto_pad", "NOTSET");
  if (autoPad === "VALID") return "valid";
  if (autoPad === "SAME_UPPER") return "same";
  if (autoPad === "SAME_LOWER") {
    if (ph[0] === ph[1] && pw[0] === pw[1]) return "same";
    throw new OnnxError(`${where}: auto_pad SAME_LOWER puts the extra padding first here; Neurite's "same" puts it last (TensorFlow's rule)`);
  }
  if (autoPad !== "NOTSET") throw new OnnxError(`${where}: auto_pad ${autoPad} is not an ONNX value`);
  const pads = attrs.ints("pads", [0, 0, 0, 0]);
  if (pads.length !== 4) throw new OnnxError(`${where}: pads must have 4 values for 2-D windows, got [${pads.join(", ")}]`);
  if (pads.every((p) => p === 0)) return "valid";
  if (pads.every((p, i) => p === same[i])) return "same";
  throw new OnnxError(
    `${where}: pads [${pads.join(", ")}] are neither "valid" (none) nor Neurite's "same" ([${same.join(", ")}] here: TensorFlow's rule, the extra row after); ` +
      "Neurite's conv and pooling layers have no other padding (pad the input yourself, or export with padding that matches)",
  );
}

/** A spatial pair attribute (kernel_shape, strides, dilations) of two positive integers. */
function pairOf(attrs: Attributes, name: string, fallback: readonly number[], where: string): [number, number] {
  const v = attrs.ints(name, fallback);
  if (v.length !== 2 || !v.every((d) => Number.isSafeInteger(d) && d >= 1)) throw new OnnxError(`${where}: ${name} must be two positive integers for a 2-D window, got [${v.join(", ")}]`);
  return [v[0]!, v[1]!];
}

/** The output size of one axis for the padding read, or an error naming the axis. */
function windowOut(where: string, size: number, kernel: number, stride: number, dilation: number, padding: "valid" | "same"): number {
  if (padding === "same") return Math.ceil(size / stride);
  const span = (kernel - 1) * dilation + 1;
  if (span > size) throw new OnnxError(`${where}: the window (span ${span}) is larger than the input size ${size}`);
  return Math.floor((size - span) / stride) + 1;
}

/**
 * One step of the walk through an image operator: a Transpose into or out of NCHW order, or a Conv, pooling or
 * BatchNormalization read as its `@neurite/layers-conv` layer. `shape` is always Neurite's [height, width,
 * channels] (or [features]); `layout` says which order the graph's value has.
 */
function imageStep(
  reader: GraphReader, node: NodeProto, where: string, attrs: Attributes, shape: readonly number[], layout: WalkLayout, record: ExportedLayerRecord | undefined,
): { layer?: PendingLayer; shape: number[]; layout: WalkLayout } {
  const op = node.op_type ?? "";
  if (op === "Transpose") {
    attrs.expectOnly(["perm"]);
    const perm = attrs.ints("perm", []).join(",");
    if (perm === "0,3,1,2" && layout === "channelsLast" && shape.length === 3) return { shape: [...shape], layout: "channelsFirst" };
    if (perm === "0,2,3,1" && layout === "channelsFirst") return { shape: [...shape], layout: "channelsLast" };
    // [batch, channels, 1, 1] and [batch, 1, 1, channels] flatten alike
    if (perm === "0,2,3,1" && layout === "pooled") return { shape: [...shape], layout: "pooled" };
    throw new OnnxError(`${where}: Transpose with perm [${perm}] on a ${layout === "channelsLast" ? `channels-last value of shape [batch, ${shape.join(", ")}]` : "NCHW value"}; only NHWC ↔ NCHW around a conv block ([0, 3, 1, 2] in, [0, 2, 3, 1] out) is imported`);
  }
  if (op === "BatchNormalization" && layout === "channelsLast" && shape.length === 1) {
    // over [batch, features], channels are axis 1 in both orders
  } else if (layout !== "channelsFirst") {
    if (layout === "channelsLast" && shape.length === 3) throw new OnnxError(`${where}: ${op} reads NCHW, and the value reaching it is the graph's input or channels-last; ${NCHW_INPUT_HELP}`);
    throw new OnnxError(`${where}: ${op} needs NCHW images [batch, channels, height, width], but the value reaching it has shape [batch, ${shape.join(", ")}]`);
  }
  const [height, width, channels] = shape.length === 3 ? (shape as [number, number, number]) : [1, 1, shape[0]!];
  if ((node.output ?? []).filter(Boolean).length > 1) {
    for (const extra of node.output!.slice(1)) if (extra && reader.consumersOf(extra).length > 0) throw new OnnxError(`${where}: its extra output "${extra}" is used; only inference graphs are imported`);
  }
  switch (op) {
    case "Conv": {
      attrs.expectOnly(["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"]);
      const w = reader.constant(node.input?.[1], where);
      if (w.dims.length !== 4) throw new OnnxError(`${where}: a 2-D Conv's weight is [filters, channels / group, kH, kW], got dims [${w.dims.join(", ")}]`);
      const [filters, groupChannels, kh, kw] = w.dims as [number, number, number, number];
      const group = attrs.int("group", 1);
      if (!Number.isSafeInteger(group) || group < 1 || groupChannels * group !== channels || filters % group !== 0) {
        throw new OnnxError(`${where}: group ${group} with a weight of dims [${w.dims.join(", ")}] does not fit ${channels} input channels`);
      }
      const kernelShape = pairOf(attrs, "kernel_shape", [kh, kw], where);
      if (kernelShape[0] !== kh || kernelShape[1] !== kw) throw new OnnxError(`${where}: kernel_shape [${kernelShape.join(", ")}] disagrees with the weight's [${kh}, ${kw}]`);
      const strides = pairOf(attrs, "strides", [1, 1], where);
      const dilation = pairOf(attrs, "dilations", [1, 1], where);
      const padding = readPadding(attrs, where, [height, width], kernelShape, strides, dilation);
      // ONNX's [F, C / group, kH, kW] as Neurite's [kH, kW, C / group, F]
      const kernel = new Float32Array(w.values.length);
      for (let o = 0; o < filters; o++) for (let c = 0; c < groupChannels; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        kernel[((i * kw + j) * groupChannels + c) * filters + o] = Number(w.values[((o * groupChannels + c) * kh + i) * kw + j]);
      }
      const weights: Record<string, Float32Array> = { kernel };
      const biasName = node.input?.[2];
      if (biasName) {
        const b = reader.constant(biasName, where);
        if (b.values.length !== filters) throw new OnnxError(`${where}: its bias has ${b.values.length} values for ${filters} filters`);
        weights.bias = Float32Array.from(b.values, Number);
      }
      return {
        layer: {
          spec: { type: "conv2d", filters, kernelSize: kernelShape, strides, padding, dilation, groups: group, useBias: biasName !== undefined && biasName !== "", kernelInitializer: "zeros" },
          weights,
        },
        shape: [windowOut(where, height, kh, strides[0], dilation[0], padding), windowOut(where, width, kw, strides[1], dilation[1], padding), filters],
        layout: "channelsFirst",
      };
    }
    case "MaxPool":
    case "AveragePool": {
      attrs.expectOnly(["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations", "storage_order", "count_include_pad"]);
      const poolSize = pairOf(attrs, "kernel_shape", [], where);
      const strides = pairOf(attrs, "strides", [1, 1], where);
      if (attrs.int("ceil_mode", 0) !== 0) throw new OnnxError(`${where}: ceil_mode = 1 has no Neurite form (output sizes round down); export with ceil_mode=False`);
      if (attrs.ints("dilations", [1, 1]).some((d) => d !== 1)) throw new OnnxError(`${where}: dilated pooling has no Neurite form`);
      if (attrs.int("storage_order", 0) !== 0) throw new OnnxError(`${where}: storage_order = 1 is not supported`);
      const padding = readPadding(attrs, where, [height, width], poolSize, strides, [1, 1]);
      if (op === "AveragePool" && padding === "same" && attrs.int("count_include_pad", 0) !== 0) {
        throw new OnnxError(`${where}: count_include_pad = 1 counts the padding in the average; Neurite's avgPool2d does not (count_include_pad=False)`);
      }
      return {
        layer: { spec: { type: op === "MaxPool" ? "maxPool2d" : "avgPool2d", poolSize, strides, padding }, weights: {} },
        shape: [windowOut(where, height, poolSize[0], strides[0], 1, padding), windowOut(where, width, poolSize[1], strides[1], 1, padding), channels],
        layout: "channelsFirst",
      };
    }
    case "GlobalAveragePool":
      attrs.expectOnly([]);
      if (shape.length !== 3) throw new OnnxError(`${where}: GlobalAveragePool needs NCHW images`);
      return { layer: { spec: { type: "globalAveragePooling2d" }, weights: {} }, shape: [channels], layout: "pooled" };
    case "BatchNormalization": {
      attrs.expectOnly(["epsilon", "momentum", "training_mode"]);
      if (attrs.int("training_mode", 0) !== 0) throw new OnnxError(`${where}: training_mode = 1; only inference graphs are imported`);
      const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => {
        const c = reader.constant(node.input?.[i], where);
        if (c.values.length !== channels) throw new OnnxError(`${where}: input ${i} has ${c.values.length} values for ${channels} channels`);
        return Float32Array.from(c.values, Number);
      }) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const epsilon = attrs.float("epsilon", 1e-5);
      const momentum = attrs.float("momentum", 0.9);
      if (!(epsilon > 0) || !(momentum >= 0 && momentum <= 1)) throw new OnnxError(`${where}: epsilon ${epsilon} must be positive and momentum ${momentum} in [0, 1]`);
      // a file from exportOnnx records the exact values the float attributes round
      const config = record?.type === "batchNormalization" ? record.config : undefined;
      const exactEpsilon = typeof config?.epsilon === "number" && f32(config.epsilon) === f32(epsilon) ? config.epsilon : f32(epsilon);
      const exactMomentum = typeof config?.momentum === "number" && f32(1 - config.momentum) === f32(momentum) ? config.momentum : 1 - f32(momentum);
      return {
        // ONNX's momentum weighs the running value (Keras's); Neurite's weighs the batch (PyTorch's)
        layer: { spec: { type: "batchNormalization", epsilon: exactEpsilon, momentum: exactMomentum }, weights: { gamma, beta, movingMean: mean, movingVariance: variance } },
        shape: [...shape],
        layout,
      };
    }
    default:
      throw new OnnxError(`${where}: ${op} is not an image operator`);
  }
}

/** Whether two semver versions differ at most in the patch (in 0.x) or minor and patch (from 1.0) component. */
function sameRelease(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => String(v).split(/[-+]/)[0]!.split("."));
  return x![0] === y![0] && (x![0] !== "0" || x![1] === y![1]);
}

function registered(name: string, where: string): ActivationPlugin {
  if (!activations.has(name)) {
    try {
      activations.get(name);
    } catch (e) {
      throw new OnnxError(`${where} maps to the activation "${name}": ${(e as Error).message}`);
    }
  }
  return activations.get(name);
}

interface Region {
  readonly nodes: number[];
  readonly output: string;
  readonly origin: string | undefined;
}

function elementwiseRegion(reader: GraphReader, start: string, features: number): Region {
  const values = new Set([start]);
  const nodes: number[] = [];
  const isAvailable = (v: string): boolean => values.has(v) || reader.constants.has(v);
  // nodes named by exportOnnx ("layer/Op") stay with their layer: two activations in a row are two layers
  let origin: string | undefined | null = null;
  let grew = true;
  while (grew) {
    grew = false;
    for (const v of [...values]) {
      for (const i of reader.consumersOf(v)) {
        if (nodes.includes(i)) continue;
        const n = reader.nodes[i]!;
        if (!(n.op_type! in ELEMENTWISE) && !(n.op_type! in ACTIVATION_OPS)) continue;
        if ((n.domain ?? "") !== "" && n.domain !== "ai.onnx") continue;
        if (!(n.input ?? []).every((x) => isAvailable(x)) || (n.output ?? []).length !== 1) continue;
        // only scalars and per-feature vectors (a trainable parameter's values) may enter from outside
        if ((n.input ?? []).some((x) => !values.has(x) && ![1, features].includes(reader.constants.get(x)?.values.length ?? 0))) continue;
        if (origin !== null && originOf(n) !== origin) continue;
        origin = originOf(n);
        nodes.push(i);
        values.add(n.output![0]!);
        grew = true;
      }
    }
  }
  // the region's result: the one value used outside it (or the graph's output)
  const inRegion = new Set(nodes);
  const outputs = [...values].filter((v) => v !== start && (reader.consumersOf(v).some((i) => !inRegion.has(i)) || !reader.consumers.has(v)));
  if (nodes.length === 0) return { nodes, output: start, origin: undefined };
  if (outputs.length !== 1) {
    throw new OnnxError(`importOnnx: the elementwise nodes after "${start}" (${nodes.map((i) => describe(reader.nodes[i]!, i)).join(", ")}) give ${outputs.length} results used further on; an activation gives one`);
  }
  // keep nodes that the result depends on, in file order
  const origins = new Set(nodes.map((i) => originOf(reader.nodes[i]!)));
  return { nodes: nodes.sort((a, b) => a - b), output: outputs[0]!, origin: origins.size === 1 ? [...origins][0] : undefined };
}

/** The region as a formula over x: its nodes as expressions, scalars as constants, casts checked. */
function regionFormula(reader: GraphReader, region: Region, x: string): string {
  const memo = new Map<string, Expr>();
  const producer = new Map<string, NodeProto>();
  for (const i of region.nodes) producer.set(reader.nodes[i]!.output![0]!, reader.nodes[i]!);
  const visit = (v: string, depth = 0): Expr => {
    if (v === x) return input(0);
    const known = memo.get(v);
    if (known) return known;
    if (depth > MAX_FORMULA_DEPTH) throw new OnnxError(`importOnnx: the elementwise subgraph ending in "${region.output}" is more than ${MAX_FORMULA_DEPTH} operators deep; an activation is a few dozen`);
    const n = producer.get(v);
    let e: Expr;
    if (!n) {
      const c = reader.scalar(v);
      if (c === undefined) throw new OnnxError(`importOnnx: the elementwise subgraph ending in "${region.output}" reads "${v}", a constant with one value per feature; only scalar constants become a formula`);
      e = constant(Math.fround(c));
    }
    else {
      const attrs = new Attributes(n, `node "${n.name ?? n.op_type}"`);
      if (n.op_type === "Cast" && ![DataType.FLOAT, DataType.BOOL].includes(attrs.int("to", 0) as 1 | 9)) {
        throw new OnnxError(`node "${n.name ?? ""}": Cast to type ${attrs.int("to", 0)} inside an activation; only float and bool casts are supported`);
      }
      if (n.op_type! in ACTIVATION_OPS && !(n.op_type! in ELEMENTWISE)) {
        throw new OnnxError(`node "${n.name ?? ""}": ${n.op_type} inside a larger elementwise subgraph is not supported; only on its own`);
      }
      e = ELEMENTWISE[n.op_type!]!((n.input ?? []).map((i) => visit(i, depth + 1)), attrs);
    }
    memo.set(v, e);
    return e;
  };
  const text = formulaText(visit(region.output));
  try {
    parseFormula(text);
  } catch (e) {
    throw new OnnxError(`importOnnx: the elementwise subgraph ending in "${region.output}" does not fit a formula (${(e as Error).message.split("\n")[0]})`, { cause: e });
  }
  return text;
}

/** Deeper subgraphs are refused before the recursion could exhaust the stack (parseFormula nests 200 deep at most). */
const MAX_FORMULA_DEPTH = 150;

/** Checks a metadata claim ("this subgraph is activation A with params P") by lowering A again and comparing. */
function verifyClaim(reader: GraphReader, claim: NonNullable<ExportedLayerRecord["activation"]>, region: Region, x: string, opset: number): { act: BoundActivation; weights: Record<string, Float32Array> } | undefined {
  if (!activations.has(claim.name)) return undefined;
  const plugin = activations.get(claim.name);
  if (plugin.package !== claim.package || plugin.type !== "elementwise") return undefined;
  if (!sameRelease(claim.version, plugin.version)) return undefined;
  let act: BoundActivation;
  try {
    act = bindActivation(plugin, claim.params);
  } catch {
    return undefined;
  }
  const layer = region.origin!;
  const trainable: Record<string, string> = {};
  for (const k of trainableParams(plugin)) trainable[k] = `${layer}.${k}`;
  const g = new GraphBuilder();
  const e = new Emitter(g, layer);
  const exact = claim.onnx !== "formula" ? exactOperator(plugin, act.params, opset) : undefined;
  let out: string;
  try {
    if (exact) out = exact.emit(e, "x", act.params, trainable);
    else {
      const program = activationProgram(act);
      out = lowerExpr(e, program.program, { input: (i) => (i === 0 ? "x" : trainable[program.trainable[i - 1]!]!), scalar: (j) => program.scalars[j]! }, claim.name);
    }
  } catch {
    return undefined;
  }
  const scratchProducers = new Map(g.nodes.map((n) => [n.output![0]!, n]));
  const scratchScalars = new Map(g.initializers.filter((t) => (t.dims ?? []).length === 0).map((t) => [t.name!, new DataView(t.raw_data!.buffer, t.raw_data!.byteOffset).getFloat32(0, true)]));
  const fileProducers = new Map(region.nodes.map((i) => [reader.nodes[i]!.output![0]!, reader.nodes[i]!]));
  const want = canonical(out, "x", (v) => scratchProducers.get(v), (v) => scratchScalars.get(v));
  const got = canonical(region.output, x, (v) => fileProducers.get(v), (v) => {
    const c = reader.constants.get(v);
    return c && c.dims.length === 0 ? Number(c.values[0]) : undefined;
  });
  if (want !== got) return undefined;
  const weights: Record<string, Float32Array> = {};
  for (const [k, name] of Object.entries(trainable)) {
    const c = reader.constants.get(name);
    if (!c) return undefined;
    weights[k] = Float32Array.from(c.values, Number);
  }
  return { act, weights };
}
