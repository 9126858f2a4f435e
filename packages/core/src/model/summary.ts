/** `summary`: a model's layers, output shapes and parameter counts as a text table. */
import { fmtShape } from "../errors.js";
import type { LayerInstance, LayerPlugin } from "../layer/contract.js";
import type { Variable } from "../tensor/variable.js";

/** @internal what the summary reads from a model (a Sequential). */
export interface SummaryTarget {
  readonly layers: readonly { readonly name: string; readonly plugin: LayerPlugin; readonly instance?: LayerInstance; readonly weights: readonly Variable[] }[];
  readonly weights: readonly Variable[];
  readonly trainableWeights: readonly Variable[];
}

/** @internal a table of layers, output shapes and parameter counts. */
export function modelSummary(model: SummaryTarget): string {
  const rows = model.layers.map((l) => [
    `${l.name} (${l.plugin.name})`,
    l.instance ? fmtShape([-1, ...l.instance.outputShape]).replace("-1", "batch") : "(not built)",
    String(l.weights.reduce((s, w) => s + w.size, 0)),
  ]);
  const header = ["Layer (type)", "Output shape", "Params"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("   ");
  const total = model.weights.reduce((s, w) => s + w.size, 0);
  const trainable = model.trainableWeights.reduce((s, w) => s + w.size, 0);
  const rule = "─".repeat(line(header).length);
  return [line(header), rule, ...rows.map(line), rule, `Total params: ${total} (trainable: ${trainable})`].join("\n");
}
