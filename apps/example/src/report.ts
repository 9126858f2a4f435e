import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Figure, PartResult, RunRecord } from "./context.js";
import { esc, htmlTable, num, pct, textTable } from "./html.js";
import { renderSvg, svgToPng } from "./plot/render.js";

/** Facts about the run, written at the top of the report and into summary.json. */
export interface RunInfo {
  readonly command: string;
  readonly seed: number;
  readonly quick: boolean;
  readonly backend: string;
  readonly seconds: number;
  readonly activations: readonly string[];
  readonly node: string;
}

/** A figure once drawn: its SVG text and where its files are. */
interface Drawn extends Figure {
  readonly svg: string;
  readonly svgPath: string;
  readonly pngPath: string;
}

/** The rows of the summary table: every training run of the tour. */
export function runRows(runs: readonly RunRecord[]): string[][] {
  return runs.map((r) => [r.part, r.label, String(r.epochs), num(r.finalLoss, 4), pct(r.accuracy), r.msPerEpoch.toFixed(1)]);
}
export const RUN_HEADERS = ["part", "run", "epochs", "final loss", "accuracy", "ms/epoch"];

/** The terminal summary: the runs table and each part's conclusions. */
export function textSummary(parts: readonly PartResult[], runs: readonly RunRecord[], info: RunInfo): string {
  const lines = [""];
  if (runs.length) lines.push("Summary", textTable(RUN_HEADERS, runRows(runs), 2), "");
  for (const p of parts) for (const h of p.highlights) lines.push(`• ${p.title.replace(/^\d+\.\s*/, "")}: ${h}`);
  lines.push("", `${info.command} finished in ${info.seconds.toFixed(1)} s on the ${info.backend} backend (seed ${info.seed}${info.quick ? ", quick" : ""}).`);
  return lines.join("\n");
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
code { background: #f4f4f4; padding: 0 0.25em; border-radius: 3px; }
figure { margin: 1.2em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #555; } figcaption a { color: #555; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #fafafa; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta { color: #666; font-size: 0.9em; }`;

function figureHtml(f: Drawn, outDir: string): string {
  const svgLink = relative(outDir, f.svgPath);
  const pngLink = relative(outDir, f.pngPath);
  return `<figure id="${esc(f.id)}">
${f.svg}
<figcaption><b>${esc(f.title)}.</b> ${esc(f.caption)} <a href="${esc(svgLink)}">SVG</a> · <a href="${esc(pngLink)}">PNG</a></figcaption>
</figure>`;
}

/**
 * Draws every figure (SVG and PNG under `outDir/figures`), then writes `outDir/report.html` with the figures
 * inline and the summary table, and `outDir/summary.json` with every number. Returns the files written.
 */
export async function writeReport(outDir: string, parts: readonly PartResult[], runs: readonly RunRecord[], info: RunInfo): Promise<string[]> {
  const figDir = join(outDir, "figures");
  await mkdir(figDir, { recursive: true });
  const files: string[] = [];
  const drawn = new Map<string, Drawn>();
  for (const f of parts.flatMap((p) => p.figures)) {
    const svg = await renderSvg(f.spec);
    const svgPath = join(figDir, `${f.id}.svg`);
    const pngPath = join(figDir, `${f.id}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, svgToPng(svg));
    files.push(svgPath, pngPath);
    drawn.set(f.id, { ...f, svg, svgPath, pngPath });
  }
  const sections = parts.map((p) => {
    const placed = new Set<string>();
    const body = p.html.replace(/\{\{figure:([\w-]+)\}\}/g, (_m, id: string) => {
      const f = drawn.get(id);
      if (!f) return "";
      placed.add(id);
      return figureHtml(f, outDir);
    });
    const rest = p.figures.filter((f) => !placed.has(f.id)).map((f) => figureHtml(drawn.get(f.id)!, outDir));
    return `<section id="${esc(p.id)}">\n<h2>${esc(p.title)}</h2>\n${body}\n${rest.join("\n")}\n</section>`;
  });
  const summary = `<section id="summary">
<h2>Summary</h2>
${runs.length ? htmlTable(RUN_HEADERS, runRows(runs), 2) : ""}
<ul>${parts.flatMap((p) => p.highlights.map((h) => `<li><b>${esc(p.title.replace(/^\d+\.\s*/, ""))}:</b> ${esc(h)}</li>`)).join("\n")}</ul>
</section>`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Neurite: a tour of activation functions</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>Neurite: a tour of activation functions</h1>
<p class="meta">${esc(info.command)} · backend ${esc(info.backend)} · seed ${info.seed}${info.quick ? " · quick run" : ""} ·
${info.seconds.toFixed(1)} s · Node ${esc(info.node)} · registered activations: ${esc(info.activations.join(", "))}</p>
<p>Every number and picture below was computed by this run, with <code>@neurite/core</code>, the
<code>${esc(info.backend)}</code> backend, the four activation families and this app's own plugin, registered
explicitly with <code>use(...)</code>.</p>
${parts.length > 1 ? `<p>${parts.map((p) => `<a href="#${esc(p.id)}">${esc(p.title)}</a>`).join(" · ")} · <a href="#summary">Summary</a></p>` : ""}
${sections.join("\n")}
${summary}
</body>
</html>
`;
  const reportPath = join(outDir, "report.html");
  await writeFile(reportPath, html);
  const summaryPath = join(outDir, "summary.json");
  const json = {
    ...info,
    runs,
    findings: Object.fromEntries(parts.map((p) => [p.id, p.findings])),
    figures: [...drawn.values()].map((f) => ({ id: f.id, title: f.title, svg: relative(outDir, f.svgPath), png: relative(outDir, f.pngPath) })),
  };
  await writeFile(summaryPath, `${JSON.stringify(json, null, 2)}\n`);
  return [reportPath, summaryPath, ...files];
}
