/** Canvas charts: the heat map with its points, the loss curves, f and f′, and per-layer bars. */
import type { Point } from "./data.js";
import { DOMAIN } from "./data.js";

/** Okabe–Ito colours (readable with every common colour-vision deficiency). */
export const COLORS = {
  negative: [230, 159, 0] as const, // orange: class 0, value −1
  positive: [0, 114, 178] as const, // blue: class 1, value +1
  f: "#0072B2",
  df: "#D55E00",
  train: "#0072B2",
  test: "#E69F00",
  axis: "#888",
  text: "#222",
};

type Rgb = readonly [number, number, number];
const css = (c: Rgb, a = 1) => `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${a})`;

/** Sizes the canvas' backing store to its CSS box times the pixel ratio; returns the 2-D context and CSS size. */
function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const ratio = globalThis.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width;
  const h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

/** The value → colour scale of the heat map: `t` in [0, 1] from orange through white to blue. */
function heat(t: number): Rgb {
  const v = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0.5));
  const [from, s] = v < 0.5 ? [COLORS.negative, 1 - 2 * v] : [COLORS.positive, 2 * v - 1];
  const mix = 0.65 * s;
  return [255 + (from[0] - 255) * mix, 255 + (from[1] - 255) * mix, 255 + (from[2] - 255) * mix];
}

let heatScratch: HTMLCanvasElement | undefined;

/**
 * The heat map of `values` (size × size, row by row from the top; in [0, 1] for classification, [−1, 1] for
 * regression), with training points (white outline) and test points (black outline) over it.
 */
export function drawHeatmap(canvas: HTMLCanvasElement, values: Float32Array | undefined, size: number, regression: boolean, train: readonly Point[], test: readonly Point[], showTest: boolean, cursor?: { x: number; y: number }): void {
  const { ctx, w, h } = prepare(canvas);
  if (values) {
    heatScratch ??= document.createElement("canvas");
    heatScratch.width = size;
    heatScratch.height = size;
    const sctx = heatScratch.getContext("2d")!;
    const img = sctx.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const c = heat(regression ? (values[i]! + 1) / 2 : values[i]!);
      img.data[4 * i] = c[0];
      img.data[4 * i + 1] = c[1];
      img.data[4 * i + 2] = c[2];
      img.data[4 * i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heatScratch, 0, 0, w, h);
  } else {
    ctx.fillStyle = "#f4f4f4";
    ctx.fillRect(0, 0, w, h);
  }
  const px = (x: number) => ((x + DOMAIN) / (2 * DOMAIN)) * w;
  const py = (y: number) => ((DOMAIN - y) / (2 * DOMAIN)) * h;
  const dot = (p: Point, outline: string) => {
    const t = regression ? (p.label + 1) / 2 : p.label;
    ctx.beginPath();
    ctx.arc(px(p.x), py(p.y), 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = css(t >= 0.5 ? COLORS.positive : COLORS.negative, regression ? Math.abs(2 * t - 1) * 0.6 + 0.4 : 1);
    ctx.fill();
    ctx.lineWidth = 1;
    ctx.strokeStyle = outline;
    ctx.stroke();
  };
  for (const p of train) dot(p, "#fff");
  if (showTest) for (const p of test) dot(p, "#000");
  if (cursor) {
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(px(cursor.x) - 8, py(cursor.y));
    ctx.lineTo(px(cursor.x) + 8, py(cursor.y));
    ctx.moveTo(px(cursor.x), py(cursor.y) - 8);
    ctx.lineTo(px(cursor.x), py(cursor.y) + 8);
    ctx.stroke();
  }
}

export interface CurvePoint {
  readonly step: number;
  readonly train: number;
  readonly test: number;
}

/** Train and test loss against steps. */
export function drawLossCurve(canvas: HTMLCanvasElement, history: readonly CurvePoint[]): void {
  const { ctx, w, h } = prepare(canvas);
  const pad = { l: 34, r: 6, t: 6, b: 16 };
  const finite = history.flatMap((p) => [p.train, p.test]).filter(Number.isFinite);
  const top = Math.max(1e-6, ...finite);
  const last = history.at(-1)?.step ?? 1;
  const x = (s: number) => pad.l + (s / Math.max(1, last)) * (w - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - Math.min(v, top) / top) * (h - pad.t - pad.b);
  ctx.strokeStyle = COLORS.axis;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(pad.l, pad.t);
  ctx.lineTo(pad.l, h - pad.b);
  ctx.lineTo(w - pad.r, h - pad.b);
  ctx.stroke();
  ctx.fillStyle = COLORS.text;
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillText(top.toPrecision(2), 2, pad.t + 8);
  ctx.fillText("0", 2, h - pad.b);
  ctx.fillText(`${last} steps`, w - pad.r - 60, h - 3);
  for (const [key, color, dash] of [["train", COLORS.train, []], ["test", COLORS.test, [4, 3]]] as const) {
    ctx.strokeStyle = color;
    ctx.setLineDash(dash);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (const p of history) {
      const v = p[key];
      if (!Number.isFinite(v)) continue;
      if (started) ctx.lineTo(x(p.step), y(v));
      else ctx.moveTo(x(p.step), y(v));
      started = true;
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** f and f′ sampled over [−6, 6] (from the declaration's float64 evaluation). */
export interface ActivationCurve {
  readonly xs: readonly number[];
  readonly f: readonly number[];
  readonly df: readonly number[];
}

export function drawActivation(canvas: HTMLCanvasElement, curve: ActivationCurve | undefined): void {
  const { ctx, w, h } = prepare(canvas);
  if (!curve) return;
  const values = [...curve.f, ...curve.df].filter(Number.isFinite);
  // clip the view to [−6, 6] vertically too, so an exponential does not flatten everything else
  const lo = Math.max(-6, Math.min(-1, ...values));
  const hi = Math.min(6, Math.max(1, ...values));
  const x = (v: number) => ((v + 6) / 12) * w;
  const y = (v: number) => 4 + (1 - (Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * (h - 8);
  ctx.strokeStyle = "#ccc";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(x(0), 0);
  ctx.lineTo(x(0), h);
  ctx.moveTo(0, y(0));
  ctx.lineTo(w, y(0));
  ctx.stroke();
  for (const [ys, color, dash] of [[curve.f, COLORS.f, []], [curve.df, COLORS.df, [3, 2]]] as const) {
    ctx.strokeStyle = color;
    ctx.setLineDash(dash);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    curve.xs.forEach((xv, i) => {
      const v = ys[i]!;
      if (!Number.isFinite(v)) {
        started = false;
        return;
      }
      if (started) ctx.lineTo(x(xv), y(v));
      else ctx.moveTo(x(xv), y(v));
      started = true;
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** Horizontal bars, one per row; `log` draws |value| on a log scale spanning 8 decades below the largest. */
export function drawBars(canvas: HTMLCanvasElement, rows: readonly { label: string; value: number }[], options: { log: boolean; max?: number; format: (v: number) => string }): void {
  const { ctx, w, h } = prepare(canvas);
  if (rows.length === 0) return;
  const rowH = h / rows.length;
  const labelW = 56;
  const valueW = 58;
  const finite = rows.map((r) => r.value).filter((v) => Number.isFinite(v) && v > 0);
  const top = options.max ?? Math.max(1e-12, ...finite);
  const frac = (v: number) => {
    if (!Number.isFinite(v) || v <= 0) return 0;
    if (!options.log) return Math.min(1, v / top);
    return Math.max(0, 1 + Math.log10(v / top) / 8);
  };
  ctx.font = "10px system-ui, sans-serif";
  rows.forEach((r, i) => {
    const y = i * rowH;
    ctx.fillStyle = COLORS.text;
    ctx.fillText(r.label, 2, y + rowH / 2 + 3);
    ctx.fillStyle = css(COLORS.positive, 0.85);
    ctx.fillRect(labelW, y + 2, frac(r.value) * (w - labelW - valueW), Math.max(2, rowH - 4));
    ctx.fillStyle = COLORS.text;
    ctx.fillText(options.format(r.value), w - valueW + 4, y + rowH / 2 + 3);
  });
}
