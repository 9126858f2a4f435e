import {
  type BoundActivation, type ModelLayer, type Sequential, type Expr, activationProgram, dense, serializeActivation, topoOrder, trainableParams,
} from "@neurite/core";
import { OnnxError } from "./errors.js";
import type { ChannelLayout, ExportedActivationRecord, LayerExporter, LayerExportContext } from "./layer-exporter.js";

export type { ChannelLayout, ExportedActivationRecord, LayerExporter, LayerExportContext, LayerExportResult, LayerLayout } from "./layer-exporter.js";
import { exactOperator } from "./exact.js";
import { GraphBuilder } from "./graph.js";
import { CONV_LAYER_EXPORTS, CONV_PACKAGE } from "./conv.js";
import { orderFree } from "./layout.js";
import { Emitter, lowerExpr } from "./lower.js";
import { type ModelProto, DataType, encodeModel } from "./proto.js";

/** The opsets of the default ONNX domain {@link exportOnnx} writes. */
export const MIN_EXPORT_OPSET = 13;
export const MAX_EXPORT_OPSET = 21;
export const DEFAULT_OPSET = 17;

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * The opset of the default domain, in [{@link MIN_EXPORT_OPSET}, {@link MAX_EXPORT_OPSET}]; default 17.
   * Higher opsets let more activations use their own operator (Mish from 18, Gelu from 20); layerNormalization
   * needs 17 or more.
   */
  readonly opset?: number;
  /**
   * Write an activation's own ONNX operator (Relu, Elu, Gelu, …) where one has the same semantics; default true.
   * With false every elementwise activation is lowered from its formula.
   */
  readonly exactOperators?: boolean;
}

/** The file's `metadata_props` keys. */
export const METADATA_KEYS = {
  neuriteVersion: "neurite.version",
  /** JSON: one entry per layer, `{ name, type, package, version, activation? }`, activation as saved models record it. */
  layers: "neurite.layers",
} as const;

export interface ExportedLayerRecord {
  readonly name: string;
  readonly type: string;
  readonly package: string;
  readonly version: string;
  readonly activation?: ExportedActivationRecord;
  /** Configuration values the ONNX attributes round to float32 (batchNormalization's epsilon and momentum), for an exact round trip. */
  readonly config?: Readonly<Record<string, number>>;
}

const CORE = "@neurite/core";

interface Context {
  readonly g: GraphBuilder;
  readonly opset: number;
  readonly exact: boolean;
}

function weightOf(layer: ModelLayer, local: string): { values: Float32Array; shape: readonly number[] } {
  const w = layer.weights.find((v) => v.name === `${layer.name}/${local}`);
  if (!w) throw new OnnxError(`layer ${layer.name}: weight "${local}" is missing (is the model built?)`);
  return { values: w.dataSync(), shape: w.shape };
}

/** Emits an activation over x; `weightPrefix` is where its trainable parameters live among the layer's weights. */
function emitActivation(ctx: Context, layer: ModelLayer, x: string, act: BoundActivation, weightPrefix: string): { out: string; record: ExportedActivationRecord } {
  const plugin = act.plugin;
  const e = new Emitter(ctx.g, layer.name);
  const base = serializeActivation(act);
  const what = `layer ${layer.name}: activation "${plugin.name}" (${plugin.package})`;
  if (plugin.type === "axis") {
    if (plugin.package !== "@neurite/activations-softmax" || (plugin.name !== "softmax" && plugin.name !== "logSoftmax")) {
      throw new OnnxError(`${what} normalises over an axis and has no ONNX form: only softmax and logSoftmax of @neurite/activations-softmax are exported; replace it or write the model another way`);
    }
    const t = act.params.temperature as number;
    const scaled = t === 1 ? x : e.op("Div", [x, e.c(t)]);
    const opType = plugin.name === "softmax" ? "Softmax" : "LogSoftmax";
    return { out: e.op(opType, [scaled], { axis: { int: act.params.axis as number } }), record: { ...base, onnx: opType } };
  }
  if (plugin.package === CORE && plugin.name === "linear") return { out: x, record: { ...base, onnx: "Identity" } };
  const trainable: Record<string, string> = {};
  for (const k of trainableParams(plugin)) {
    const w = weightOf(layer, `${weightPrefix}${k}`);
    trainable[k] = ctx.g.floats(`${layer.name}.${k}`, w.values, w.shape);
  }
  const exact = ctx.exact ? exactOperator(plugin, act.params, ctx.opset) : undefined;
  if (exact) return { out: exact.emit(e, x, act.params, trainable), record: { ...base, onnx: exact.opType } };
  const program = activationProgram(act);
  const out = lowerExpr(e, program.program, {
    input: (i) => {
      if (i === 0) return x;
      const name = program.trainable[i - 1];
      const w = name === undefined ? undefined : trainable[name];
      if (w === undefined) throw new OnnxError(`${what}: its formula reads input ${i}, which is not x or a trainable parameter`);
      return w;
    },
    scalar: (j) => {
      const v = program.scalars[j];
      if (v === undefined) throw new OnnxError(`${what}: its formula reads scalar ${j}, which no parameter provides`);
      return v;
    },
  }, what);
  // a formula that ignores x (a constant) still yields one value per element
  const shaped = out === x || dependsOnInput(program.program) ? out : e.op("Add", [out, e.op("Mul", [x, e.c(0)])]);
  return { out: shaped, record: { ...base, onnx: "formula" } };
}

function dependsOnInput(expr: Expr): boolean {
  return topoOrder(expr).some((n) => n.node.kind === "input" && n.node.index === 0);
}

const CORE_LAYER_EXPORTS: Readonly<Record<string, LayerExporter>> = {
  dense: {
    layout: "channelsLast",
    emit(ctx, layer, x, rank) {
      const { g } = ctx;
      const kernel = ctx.weight(layer, "kernel");
      const kName = g.floats(`${layer.name}.kernel`, kernel.values, kernel.shape);
      const bias = layer.config.useBias ? ctx.weight(layer, "bias") : undefined;
      const bName = bias ? g.floats(`${layer.name}.bias`, bias.values, bias.shape) : undefined;
      let z: string;
      // Gemm takes 2-D input only; dense over more axes acts on the last one, as MatMul does
      if (rank === 2) z = g.node("Gemm", bName ? [x, kName, bName] : [x, kName], layer.name);
      else {
        const mm = g.node("MatMul", [x, kName], layer.name);
        z = bName ? g.node("Add", [mm, bName], layer.name) : mm;
      }
      const act = ctx.activation(layer, z, layer.config.activation as BoundActivation, "activation.");
      return { out: act.out, activation: act.record };
    },
  },
  activation: {
    // an elementwise activation without per-channel weights computes the same in either order
    layout: (layer) => (orderFree(layer.config.activation as BoundActivation) ? "any" : "channelsLast"),
    emit(ctx, layer, x) {
      const act = ctx.activation(layer, x, layer.config.activation as BoundActivation, "");
      return { out: act.out, activation: act.record };
    },
  },
  // the identity at inference, in either layout
  dropout: { layout: "any", emit: (_ctx, _layer, x) => ({ out: x }) },
  flatten: { layout: "channelsLast", emit: (ctx, layer, x) => ({ out: ctx.g.node("Flatten", [x], layer.name, { axis: { int: 1 } }) }) },
  layerNormalization: {
    layout: "channelsLast",
    emit(ctx, layer, x) {
      const { g } = ctx;
      const config = layer.config;
      if (ctx.opset < 17) {
        throw new OnnxError(`layer ${layer.name}: layerNormalization needs ONNX opset 17 or later (LayerNormalization), but opset ${ctx.opset} was asked for; export with { opset: 17 }`);
      }
      const features = layer.inputShape![layer.inputShape!.length - 1]!;
      const gamma = config.scale ? ctx.weight(layer, "gamma") : { values: new Float32Array(features).fill(1), shape: [features] };
      const inputs = [x, g.floats(`${layer.name}.gamma`, gamma.values, gamma.shape)];
      if (config.center) {
        const beta = ctx.weight(layer, "beta");
        inputs.push(g.floats(`${layer.name}.beta`, beta.values, beta.shape));
      }
      return { out: g.node("LayerNormalization", inputs, layer.name, { axis: { int: -1 }, epsilon: { float: config.epsilon as number } }) };
    },
  },
};

/**
 * The layers exportOnnx writes, by the layer plugin's package and then its name. A layer package adds its
 * layers with one entry here (see `src/conv.ts` for `@neurite/layers-conv`); core's entries stay as they are.
 */
export const LAYER_EXPORTS: Readonly<Record<string, Readonly<Record<string, LayerExporter>>>> = {
  [CORE]: CORE_LAYER_EXPORTS,
  [CONV_PACKAGE]: CONV_LAYER_EXPORTS,
};

const TO_CHANNELS_FIRST = [0, 3, 1, 2];
const TO_CHANNELS_LAST = [0, 2, 3, 1];

/**
 * Writes a built Sequential as an ONNX `ModelProto`: one float32 input `input` and one output `output`, both
 * with a symbolic batch dimension `batch`. Dense becomes Gemm (MatMul + Add beyond 2-D), flatten Flatten,
 * layerNormalization LayerNormalization, dropout nothing, and `@neurite/layers-conv`'s layers Conv, MaxPool,
 * AveragePool, GlobalAveragePool and BatchNormalization in NCHW order between two Transposes (the file's input and
 * output stay NHWC); every elementwise activation, a user's own included,
 * is lowered from its formula to ONNX operators (or written as its own operator where one matches exactly),
 * softmax / logSoftmax become Softmax / LogSoftmax, and trainable activation parameters become initializers.
 * The file's `metadata_props` record Neurite's version and each layer's and activation's package, name, version
 * and parameters.
 *
 * @throws {@link OnnxError} naming the layer and what is missing when part of the model has no ONNX form; no
 * file is produced then, so a file never computes something else.
 * @example
 * const bytes = exportOnnx(model);                     // opset 17
 * writeFileSync("model.onnx", bytes);
 */
export function exportOnnx(model: Sequential, options: ExportOnnxOptions = {}): Uint8Array {
  if (typeof options !== "object" || options === null) throw new OnnxError(`exportOnnx: options must be an object, got ${String(options)}`);
  for (const k of Object.keys(options)) {
    if (k !== "opset" && k !== "exactOperators") throw new OnnxError(`exportOnnx: unknown option "${k}"; the options are opset and exactOperators`);
  }
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_EXPORT_OPSET || opset > MAX_EXPORT_OPSET) {
    throw new OnnxError(`exportOnnx: opset ${String(opset)} is not supported; use an integer from ${MIN_EXPORT_OPSET} to ${MAX_EXPORT_OPSET} (default ${DEFAULT_OPSET})`);
  }
  if (options.exactOperators !== undefined && typeof options.exactOperators !== "boolean") {
    throw new OnnxError(`exportOnnx: exactOperators must be true or false, got ${String(options.exactOperators)}`);
  }
  if (!model.built || !model.inputShape) {
    throw new OnnxError(`exportOnnx: ${model.name} is not built, so its weights do not exist yet; give the first layer an inputShape, or train or build(inputShape) it first`);
  }
  const ctx: Context = { g: new GraphBuilder(), opset, exact: options.exactOperators ?? true };
  const layerCtx: LayerExportContext = {
    g: ctx.g,
    opset,
    weight: weightOf,
    activation: (layer, x, act, prefix) => emitActivation(ctx, layer, x, act, prefix),
  };
  let x = ctx.g.reserve("input");
  let rank = model.inputShape.length + 1;
  let layout: ChannelLayout = "channelsLast";
  const records: ExportedLayerRecord[] = [];
  for (const layer of model.layers) {
    const plugin = layer.plugin;
    const exporter = LAYER_EXPORTS[plugin.package]?.[plugin.name];
    if (!exporter) {
      const known = Object.entries(LAYER_EXPORTS).map(([pkg, table]) => `${Object.keys(table).join(", ")} (from ${pkg})`).join("; ");
      throw new OnnxError(`layer ${layer.name} is a "${plugin.name}" layer from ${plugin.package}, which has no ONNX export; @neurite/onnx exports ${known}`);
    }
    // a channels-first block starts with one Transpose and ends with one, only where the order matters
    const wants = typeof exporter.layout === "function" ? exporter.layout(layer, rank) : exporter.layout;
    if (wants === "channelsFirst" && layout === "channelsLast") {
      if (rank !== 4) throw new OnnxError(`layer ${layer.name} ("${plugin.name}") needs NHWC images [batch, height, width, channels], its input has rank ${rank}`);
      x = ctx.g.node("Transpose", [x], layer.name, { perm: { ints: TO_CHANNELS_FIRST } });
      layout = "channelsFirst";
    } else if (wants === "channelsLast" && layout === "channelsFirst") {
      x = ctx.g.node("Transpose", [x], layer.name, { perm: { ints: TO_CHANNELS_LAST } });
      layout = "channelsLast";
    }
    const emitted = exporter.emit(layerCtx, layer, x, rank);
    records.push({ name: layer.name, type: plugin.name, package: plugin.package, version: plugin.version, ...(emitted.activation ? { activation: emitted.activation } : {}), ...(emitted.config ? { config: emitted.config } : {}) });
    x = emitted.out;
    if (emitted.layout) layout = emitted.layout;
    rank = layer.instance!.outputShape.length + 1;
  }
  if (layout === "channelsFirst") x = ctx.g.node("Transpose", [x], "output", { perm: { ints: TO_CHANNELS_LAST } });
  // the last value gets the graph output's name through an Identity (or a renamed last node)
  ctx.g.node("Identity", [x], "output", {}, "output");
  const dims = (shape: readonly number[]) => [{ dim_param: "batch" }, ...shape.map((d) => ({ dim_value: d }))];
  const tensorType = (shape: readonly number[]) => ({ tensor_type: { elem_type: DataType.FLOAT, shape: { dim: dims(shape) } } });
  const proto: ModelProto = {
    // IR version 8 is what opsets 13–18 need at most; ONNX Runtime reads IR 3 to 10
    ir_version: opset >= 19 ? 9 : 8,
    opset_import: [{ domain: "", version: opset }],
    producer_name: "neurite",
    producer_version: dense.version,
    graph: {
      name: model.name,
      node: ctx.g.nodes,
      initializer: ctx.g.initializers,
      input: [{ name: "input", type: tensorType(model.inputShape) }],
      output: [{ name: "output", type: tensorType(model.outputShape!) }],
    },
    metadata_props: [
      { key: METADATA_KEYS.neuriteVersion, value: dense.version },
      { key: METADATA_KEYS.layers, value: JSON.stringify(records) },
    ],
  };
  return encodeModel(proto);
}
