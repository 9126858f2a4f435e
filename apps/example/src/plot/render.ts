import { Resvg } from "@resvg/resvg-js";
import { View, parse } from "vega";
import { type TopLevelSpec, compile } from "vega-lite";

/** The font every figure asks for; DejaVu Sans ships with most Linux systems and covers σ, ′ and the like. */
export const FONT = "DejaVu Sans";

/** Shared look: white background, one font, quiet axes. Merged into every spec. */
const CONFIG = {
  font: FONT,
  background: "white",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" as const },
};

/**
 * Renders a Vega-Lite spec to an SVG string in Node: Vega-Lite compiles it to a Vega spec, and a headless
 * Vega view (no DOM, no canvas) draws it with its SVG string renderer.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new View(parse(compile(withConfig).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG to PNG at `scale` times its size, with the system's fonts. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return resvg.render().asPng();
}
