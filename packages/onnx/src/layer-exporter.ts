/**
 * The contract of a layer's ONNX writer, apart from the exporter that runs it, so that the writers of layer
 * packages (conv.ts) and the exporter (export.ts) both depend on it and not on each other.
 */
import type { ActivationParams, BoundActivation, ModelLayer } from "@neurite/core";
import type { GraphBuilder } from "./graph.js";

/** How an activation is written: its identity and parameters, and the operator used or "formula". */
export interface ExportedActivationRecord {
  readonly package: string;
  readonly name: string;
  readonly version: string;
  readonly params: ActivationParams;
  /** The exact ONNX operator written, or "formula" when lowered from the formula. */
  readonly onnx: string;
}

/** Where a value's channels are: Neurite's channels-last order, or ONNX's NCHW (between a conv block's Transposes). */
export type ChannelLayout = "channelsLast" | "channelsFirst";

/** What a {@link LayerExporter} is given: the graph, the target opset, and the shared helpers of the exporter. */
export interface LayerExportContext {
  readonly g: GraphBuilder;
  readonly opset: number;
  /** A weight of the layer by its local name (`kernel`, `bias`, …), with its values and Neurite shape. */
  weight(layer: ModelLayer, local: string): { values: Float32Array; shape: readonly number[] };
  /** Writes an activation over `x` (channels last); `weightPrefix` is where its trainable parameters are among the layer's weights. */
  activation(layer: ModelLayer, x: string, act: BoundActivation, weightPrefix: string): { out: string; record: ExportedActivationRecord };
}

/** What a {@link LayerExporter} wrote: its output value, the order it is in when that changes, and what the metadata records. */
export interface LayerExportResult {
  readonly out: string;
  /** The channel order of `out`, when the layer changes it. */
  readonly layout?: ChannelLayout;
  readonly activation?: ExportedActivationRecord;
  readonly config?: Readonly<Record<string, number>>;
}

/** The channel order a layer reads. */
export type LayerLayout = ChannelLayout | "any";

/**
 * How one layer type is written to ONNX. `layout` is the channel order the layer reads: "channelsFirst" for the
 * image layers written as ONNX's NCHW operators, "channelsLast" for every layer that follows Neurite's order, and
 * "any" for layers indifferent to it (elementwise ones); the exporter inserts the Transposes between them.
 */
export interface LayerExporter {
  readonly layout: LayerLayout | ((layer: ModelLayer, rank: number) => LayerLayout);
  emit(ctx: LayerExportContext, layer: ModelLayer, x: string, rank: number): LayerExportResult;
}

