import type { TopLevelSpec } from "vega-lite";

/** One point of a line chart. */
export interface SeriesPoint {
  readonly series: string;
  readonly x: number;
  readonly y: number;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly logY?: boolean;
  /** Order of the series in the legend (default: first appearance). */
  readonly seriesOrder?: readonly string[];
  readonly seriesTitle?: string;
  readonly points?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Several series in one chart, one colour each (loss curves, gradient norms, dead fractions). */
export function lineChart(data: readonly SeriesPoint[], o: LineChartOptions): TopLevelSpec {
  const order = o.seriesOrder ?? [...new Set(data.map((d) => d.series))];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: o.title,
    width: o.width ?? 520,
    height: o.height ?? 300,
    data: { values: data.map((d) => ({ ...d })) },
    mark: { type: "line", point: o.points ?? false, strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: o.xTitle },
      y: { field: "y", type: "quantitative", title: o.yTitle, scale: o.logY ? { type: "log" } : { zero: false } },
      color: { field: "series", type: "nominal", title: o.seriesTitle ?? "", sort: [...order], scale: { scheme: "tableau10" } },
    },
  };
}

/** A model's class-1 probability over a grid, with the training points on top. */
export interface BoundaryData {
  /** Grid cells: corners (x0, y0)–(x1, y1) and the predicted probability p of class 1. */
  readonly cells: readonly { x0: number; y0: number; x1: number; y1: number; p: number }[];
  readonly points: readonly { x: number; y: number; label: string }[];
  readonly extent: readonly [number, number];
}

/** The decision boundary of a 2-D binary classifier: colour = predicted probability, dots = the data. */
export function boundaryChart(d: BoundaryData, title: string, subtitle?: string): TopLevelSpec {
  const domain = [d.extent[0], d.extent[1]];
  const axis = (t: string) => ({ type: "quantitative" as const, title: t, scale: { domain, nice: false, zero: false } });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: subtitle ? { text: title, subtitle } : title,
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: d.cells.map((c) => ({ ...c })) },
        mark: { type: "rect", strokeWidth: 0 },
        encoding: {
          x: { field: "x0", ...axis("x₁") },
          x2: { field: "x1" },
          y: { field: "y0", ...axis("x₂") },
          y2: { field: "y1" },
          color: { field: "p", type: "quantitative", title: "P(arm B)", scale: { domain: [0, 1], range: ["#9ecae1", "#f7f7f7", "#fdae6b"] } },
        },
      },
      {
        data: { values: d.points.map((p) => ({ ...p })) },
        mark: { type: "circle", size: 14, opacity: 0.9, stroke: "white", strokeWidth: 0.4 },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          fill: { field: "label", type: "nominal", title: "class", scale: { range: ["#2171b5", "#d94801"] } },
        },
      },
    ],
  };
}

/** One activation curve sample: f or f′ at x. */
export interface CurvePoint {
  readonly activation: string;
  readonly curve: string;
  readonly x: number;
  readonly y: number;
}

/** Small multiples: each activation's f and f′ over the same x range, one panel each. */
export function galleryChart(data: readonly CurvePoint[], title: string, order: readonly string[], columns = 4): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: data.map((d) => ({ ...d })) },
    columns,
    facet: { field: "activation", type: "nominal", title: null, sort: [...order], header: { labelFontSize: 13, labelFontWeight: "bold" } },
    spec: {
      width: 170,
      height: 120,
      layer: [
        { mark: { type: "rule", color: "#bbb", strokeWidth: 1 }, encoding: { y: { datum: 0 } } },
        {
          mark: { type: "line", strokeWidth: 2, clip: true },
          encoding: {
            x: { field: "x", type: "quantitative", title: "x", scale: { domain: [-6, 6], nice: false } },
            y: { field: "y", type: "quantitative", title: null },
            color: { field: "curve", type: "nominal", title: "", scale: { domain: ["f(x)", "f′(x)"], range: ["#1f77b4", "#ff7f0e"] } },
            // same field and title as the colour: Vega-Lite merges the two into one legend (colour and dash)
            strokeDash: { field: "curve", type: "nominal", title: "", scale: { domain: ["f(x)", "f′(x)"], range: [[1, 0], [5, 3]] } },
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
}

/** One bar segment: the probability of one class for one flower. */
export interface ProbabilityBar {
  readonly item: string;
  readonly cls: string;
  readonly p: number;
}

/** Stacked horizontal bars: each row a sample, each segment a class's softmax probability. */
export function probabilityChart(data: readonly ProbabilityBar[], title: string, classes: readonly string[], items: readonly string[]): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 420,
    height: { step: 28 },
    data: { values: data.map((d) => ({ ...d, pct: `${(100 * d.p).toFixed(0)} %` })) },
    encoding: {
      y: { field: "item", type: "nominal", title: null, sort: [...items] },
      x: { field: "p", type: "quantitative", title: "softmax probability", stack: "zero", scale: { domain: [0, 1] }, axis: { format: "%" } },
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: { color: { field: "cls", type: "nominal", title: "species", sort: [...classes], scale: { scheme: "set2" } }, order: { field: "cls" } },
      },
      {
        mark: { type: "text", dx: -4, align: "right", color: "black", fontSize: 11 },
        encoding: { text: { field: "pct" }, x: { field: "p", type: "quantitative", stack: "zero" }, order: { field: "cls" }, opacity: { condition: { test: "datum.p > 0.08", value: 1 }, value: 0 } },
      },
    ],
  };
}

/** One cell of a small heat map: which panel, its row and column, and its value. */
export interface HeatCell {
  readonly panel: string;
  readonly row: number;
  readonly col: number;
  readonly value: number;
}

/** Small heat maps side by side (a CNN's first-layer filters): one panel each, on one shared diverging scale. */
export function filterChart(cells: readonly HeatCell[], title: string, panels: readonly string[], columns = 8): TopLevelSpec {
  const extent = Math.max(1e-12, ...cells.map((c) => Math.abs(c.value)));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: cells.map((c) => ({ ...c })) },
    facet: { field: "panel", type: "nominal", title: null, sort: [...panels] },
    columns,
    spec: {
      width: 54,
      height: 54,
      mark: { type: "rect" },
      encoding: {
        x: { field: "col", type: "ordinal", axis: null },
        y: { field: "row", type: "ordinal", axis: null },
        color: { field: "value", type: "quantitative", title: "weight", scale: { scheme: "redblue", domain: [-extent, extent], reverse: true } },
      },
    },
  };
}

/** A confusion matrix: rows the true class, columns the predicted one, each cell's count written in it. */
export function confusionChart(counts: readonly (readonly number[])[], classes: readonly string[], title: string): TopLevelSpec {
  const values = counts.flatMap((row, t) => row.map((n, p) => ({ actual: classes[t]!, predicted: classes[p]!, n })));
  const max = Math.max(1, ...values.map((v) => v.n));
  const axis = { sort: [...classes] };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 320,
    height: 320,
    data: { values },
    encoding: {
      x: { field: "predicted", type: "ordinal", title: "predicted", ...axis },
      y: { field: "actual", type: "ordinal", title: "true class", ...axis },
    },
    layer: [
      { mark: { type: "rect" }, encoding: { color: { field: "n", type: "quantitative", title: "images", scale: { scheme: "blues", domain: [0, max] } } } },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "n", type: "quantitative" },
          color: { condition: { test: `datum.n > ${max / 2}`, value: "white" }, value: "black" },
        },
      },
    ],
  };
}
