import type { BoundActivation, ModelLayer } from "@neurite/core";
import { OnnxError } from "./errors.js";
import type { LayerExporter } from "./layer-exporter.js";
import { orderFree } from "./layout.js";

/** The package whose layers this table writes. */
export const CONV_PACKAGE = "@neurite/layers-conv";

type Pair = readonly [number, number];

/**
 * ONNX `pads` [top, left, bottom, right] for Neurite's padding, which is TensorFlow's: "same" gives
 * ceil(size / stride) outputs with the padding split evenly and the extra row after, so it may be asymmetric;
 * written explicitly rather than as auto_pad.
 */
export function samePads(size: Pair, kernel: Pair, strides: Pair, dilation: Pair, padding: string): number[] {
  if (padding === "valid") return [0, 0, 0, 0];
  const axis = (i: 0 | 1): [number, number] => {
    const span = (kernel[i] - 1) * dilation[i] + 1;
    const out = Math.ceil(size[i] / strides[i]);
    const total = Math.max((out - 1) * strides[i] + span - size[i], 0);
    const before = Math.floor(total / 2);
    return [before, total - before];
  };
  const [[top, bottom], [left, right]] = [axis(0), axis(1)];
  return [top, left, bottom, right];
}

function spatial(layer: ModelLayer): Pair {
  const shape = layer.inputShape;
  if (!shape || shape.length !== 3) throw new OnnxError(`layer ${layer.name}: expected NHWC samples [height, width, channels], got ${JSON.stringify(shape)}`);
  return [shape[0]!, shape[1]!];
}

/** Neurite's kernel [kH, kW, C / groups, F] as ONNX's [F, C / groups, kH, kW]; groups index the same way in both. */
function kernelToOihw(values: Float32Array, shape: readonly number[]): { values: Float32Array; shape: number[] } {
  const [kh, kw, cg, f] = shape as [number, number, number, number];
  const out = new Float32Array(values.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cg; c++) for (let o = 0; o < f; o++) {
    out[((o * cg + c) * kh + i) * kw + j] = values[((i * kw + j) * cg + c) * f + o]!;
  }
  return { values: out, shape: [f, cg, kh, kw] };
}

function poolExporter(opType: "MaxPool" | "AveragePool"): LayerExporter {
  return {
    layout: "channelsFirst",
    emit(ctx, layer, x) {
      const c = layer.config as unknown as { poolSize: Pair; strides: Pair; padding: string };
      const pads = samePads(spatial(layer), c.poolSize, c.strides, [1, 1], c.padding);
      const attrs = { kernel_shape: { ints: [...c.poolSize] }, strides: { ints: [...c.strides] }, pads: { ints: pads } };
      // Neurite's average leaves the padding out of the count (PyTorch's count_include_pad=False)
      return { out: ctx.g.node(opType, [x], layer.name, opType === "AveragePool" ? { ...attrs, count_include_pad: { int: 0 } } : attrs) };
    },
  };
}

/** `@neurite/layers-conv`'s layers, written in ONNX's NCHW order between the exporter's Transposes. */
export const CONV_LAYER_EXPORTS: Readonly<Record<string, LayerExporter>> = {
  conv2d: {
    layout: "channelsFirst",
    emit(ctx, layer, x) {
      const c = layer.config as unknown as { kernelSize: Pair; strides: Pair; dilation: Pair; padding: string; groups: number; useBias: boolean; activation: BoundActivation };
      const kernel = ctx.weight(layer, "kernel");
      const oihw = kernelToOihw(kernel.values, kernel.shape);
      const inputs = [x, ctx.g.floats(`${layer.name}.kernel`, oihw.values, oihw.shape)];
      if (c.useBias) {
        const bias = ctx.weight(layer, "bias");
        inputs.push(ctx.g.floats(`${layer.name}.bias`, bias.values, bias.shape));
      }
      const z = ctx.g.node("Conv", inputs, layer.name, {
        kernel_shape: { ints: [...c.kernelSize] }, strides: { ints: [...c.strides] }, dilations: { ints: [...c.dilation] },
        pads: { ints: samePads(spatial(layer), c.kernelSize, c.strides, c.dilation, c.padding) }, group: { int: c.groups },
      });
      const act = c.activation;
      // an elementwise activation without parameters reads NCHW as well as NHWC; any other one gets channels last
      if (orderFree(act)) {
        const a = ctx.activation(layer, z, act, "activation.");
        return { out: a.out, activation: a.record };
      }
      const last = ctx.g.node("Transpose", [z], layer.name, { perm: { ints: [0, 2, 3, 1] } });
      const a = ctx.activation(layer, last, act, "activation.");
      return { out: a.out, activation: a.record, layout: "channelsLast" };
    },
  },
  maxPool2d: poolExporter("MaxPool"),
  avgPool2d: poolExporter("AveragePool"),
  globalAveragePooling2d: {
    layout: "channelsFirst",
    emit(ctx, layer, x) {
      // ONNX keeps [batch, channels, 1, 1]; Neurite's layer gives [batch, channels]
      const pooled = ctx.g.node("GlobalAveragePool", [x], layer.name);
      return { out: ctx.g.node("Flatten", [pooled], layer.name, { axis: { int: 1 } }), layout: "channelsLast" };
    },
  },
  batchNormalization: {
    layout: (_layer, rank) => (rank === 4 ? "channelsFirst" : "any"),
    emit(ctx, layer, x, rank) {
      if (rank !== 2 && rank !== 4) {
        throw new OnnxError(`layer ${layer.name}: batchNormalization over an input of rank ${rank} has no ONNX export (BatchNormalization normalizes axis 1); only [batch, channels] and NHWC images are exported`);
      }
      const c = layer.config as unknown as { epsilon: number; momentum: number };
      const inputs = [x, ...["gamma", "beta", "movingMean", "movingVariance"].map((k) => {
        const w = ctx.weight(layer, k);
        return ctx.g.floats(`${layer.name}.${k}`, w.values, w.shape);
      })];
      // ONNX's momentum is Keras's, the weight of the running value: 1 − PyTorch's (Neurite's)
      const out = ctx.g.node("BatchNormalization", inputs, layer.name, { epsilon: { float: c.epsilon }, momentum: { float: 1 - c.momentum } });
      return { out, config: { epsilon: c.epsilon, momentum: c.momentum } };
    },
  },
};
