import {
  type ActivationPlugin, type AxisActivation, activationMeta, activations, bindActivation, scalarActivation,
} from "@neurite/core";
import { type CurvePoint, galleryChart } from "../plot/charts.js";
import type { Figure, PartResult, TourContext } from "../context.js";
import { esc, htmlTable, num } from "../html.js";

export const TITLE = "2. The gallery";

/** Where the curves are drawn: [−6, 6], as in the tutorial's figures. */
const LO = -6;
const HI = 6;

/** The float64 curves of one activation, and how its derivative compares with finite differences. */
export interface Curves {
  readonly name: string;
  readonly kind: "elementwise" | "axis";
  readonly xs: readonly number[];
  readonly f: readonly number[];
  readonly df: readonly number[];
  /** Largest |f′ − central difference of f| / max(1, |f′|), at points away from any kink. */
  readonly derivativeCheck: number;
}

/** A central difference of g at x (h chosen for float64). */
function centralDifference(g: (x: number) => number, x: number, h = 1e-5): number {
  return (g(x + h) - g(x - h)) / (2 * h);
}

function largestRelativeGap(df: (x: number) => number, f: (x: number) => number): number {
  let worst = 0;
  // an offset grid never lands on the kinks of relu, relu6, hardTanh, hardSigmoid, hardSwish (integers, ±3, 6)
  for (let x = LO + 0.0123; x < HI; x += 0.25) {
    const d = df(x);
    const fd = centralDifference(f, x);
    if (Number.isFinite(d) && Number.isFinite(fd)) worst = Math.max(worst, Math.abs(d - fd) / Math.max(1, Math.abs(d)));
  }
  return worst;
}

/**
 * An axis activation (softmax) has no f(x) of one number: draw the first output of f([x, 0, −1]) as x moves,
 * and its derivative by central differences of the plugin's float64 reference.
 */
function axisCurves(plugin: AxisActivation, xs: readonly number[]): Curves {
  const params = bindActivation(plugin).params;
  const first = (x: number): number => plugin.reference([x, 0, -1], params)[0]!;
  return {
    name: plugin.name,
    kind: "axis",
    xs,
    f: xs.map(first),
    df: xs.map((x) => centralDifference(first, x)),
    derivativeCheck: 0,
  };
}

/** f and f′ of any registered activation, from its declaration alone. */
export function curvesOf(plugin: ActivationPlugin, points = 241): Curves {
  const xs = Array.from({ length: points }, (_, i) => LO + ((HI - LO) * i) / (points - 1));
  if (plugin.type === "axis") return axisCurves(plugin, xs);
  const s = scalarActivation(plugin);
  const f = (x: number) => s.f(x);
  const df = (x: number) => s.df(x);
  return { name: plugin.name, kind: "elementwise", xs, f: xs.map(f), df: xs.map(df), derivativeCheck: largestRelativeGap(df, f) };
}

function describeParams(plugin: ActivationPlugin): string {
  const entries = Object.entries(plugin.params);
  return entries.length ? entries.map(([k, spec]) => `${k} = ${String(spec.default)}${spec.trainable ? " (trainable)" : ""}`).join(", ") : "–";
}

function fmtRange(r: readonly [number, number]): string {
  const end = (v: number) => (v === Infinity ? "∞" : v === -Infinity ? "−∞" : num(v, 2));
  return `[${end(r[0])}, ${end(r[1])}]`;
}

/** Display names of the families, in the tutorial's order; others follow alphabetically. */
const FAMILY_TITLES: Record<string, string> = {
  core: "Built into the core",
  sigmoid: "The sigmoid family (@neurite/activations-sigmoid)",
  relu: "The ReLU family (@neurite/activations-relu)",
  smooth: "Smooth activations (@neurite/activations-smooth)",
  softmax: "Softmax (@neurite/activations-softmax)",
  example: "This app's own plugin",
  formula: "Your formulas (--formula)",
};
const FAMILY_ORDER = ["core", "sigmoid", "relu", "smooth", "softmax", "example", "formula"];

/** Part 2: every registered activation and its derivative, drawn from the plugins' declarations. */
export function runGallery(ctx: TourContext): PartResult {
  ctx.progress.line(`\n${TITLE}`);
  const plugins = activations.list();
  const byFamily = new Map<string, ActivationPlugin[]>();
  const skipped: { name: string; reason: string }[] = [];
  const curves = new Map<string, Curves>();
  for (const p of plugins) {
    try {
      curves.set(p.name, curvesOf(p));
      byFamily.set(p.family, [...(byFamily.get(p.family) ?? []), p]);
    } catch (e) {
      skipped.push({ name: p.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const families = [...byFamily.keys()].sort((a, b) => {
    const ia = FAMILY_ORDER.indexOf(a);
    const ib = FAMILY_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const figures: Figure[] = families.map((family) => {
    const members = byFamily.get(family)!;
    const data: CurvePoint[] = members.flatMap((p) => {
      const c = curves.get(p.name)!;
      const label = c.kind === "axis" ? `${p.name}([x, 0, −1])₀` : p.name;
      return c.xs.flatMap((x, i) => [
        { activation: label, curve: "f(x)", x, y: c.f[i]! },
        { activation: label, curve: "f′(x)", x, y: c.df[i]! },
      ]).filter((d) => Number.isFinite(d.y));
    });
    const order = members.map((p) => (p.type === "axis" ? `${p.name}([x, 0, −1])₀` : p.name));
    const axisNote = members.some((p) => p.type === "axis")
      ? " Softmax acts on a whole vector, not on one number: its panel shows the first output of softmax([x, 0, −1]) as x moves, and that output's derivative with respect to x (central differences of the plugin's float64 reference)."
      : "";
    return {
      id: `gallery-${family}`,
      title: FAMILY_TITLES[family] ?? `The ${family} family`,
      caption: `${members.map((p) => p.name).join(", ")}: f (solid) and f′ (dashed) over [−6, 6].${axisNote}`,
      spec: galleryChart(data, FAMILY_TITLES[family] ?? `The ${family} family`, order, Math.min(4, members.length)),
    };
  });
  const rows = plugins.filter((p) => curves.has(p.name)).map((p) => {
    const c = curves.get(p.name)!;
    const at = (x: number) => c.df[c.xs.findIndex((v) => Math.abs(v - x) < 1e-9)] ?? Number.NaN;
    const meta = activationMeta(bindActivation(p));
    return [
      p.name, p.package, p.description, describeParams(p), fmtRange(meta.range),
      num(at(-5)), num(at(0)), num(at(5)), c.kind === "axis" ? "(vector)" : num(c.derivativeCheck, 1),
    ];
  });
  const worst = Math.max(0, ...[...curves.values()].map((c) => c.derivativeCheck));
  const html = `
<p>Every panel below is drawn from a plugin's declaration: core's <code>scalarActivation(spec)</code> compiles the
declared formula to a float64 <code>f</code>, and <code>f′</code> from the plugin's hand-given derivative or, where it
gives none, from the core's symbolic derivative of the formula. The list comes from
<code>activations.list()</code>, so a newly registered activation appears here without any change to the app; this
app's own plugin, <code>bentIdentity</code>, is one of them.</p>
<ul>
<li>sigmoid <code>σ(x) = 1/(1+e<sup>−x</sup>)</code> maps into (0, 1), with <code>σ′ = σ(1−σ)</code>, at most 0.25;
tanh maps into (−1, 1), <code>tanh(x) = 2σ(2x) − 1</code>, <code>tanh′ = 1 − tanh²</code>. Both saturate: for large |x|
the derivative goes to 0 (vanishing gradients).</li>
<li>ReLU <code>= max(0, x)</code>: its gradient at 0 is a convention (0, 0.5 or 1; the default is 0, as in PyTorch);
negative inputs give zero gradient, which is how ReLUs die. LeakyReLU is x for x &gt; 0, else αx (α = 0.01); ELU is x
for x &gt; 0, else α(e<sup>x</sup> − 1) (α = 1).</li>
<li>softmax <code>pᵢ = e<sup>xᵢ</sup>/Σⱼe<sup>xⱼ</sup></code> acts on a vector: its outputs are positive and sum to 1.</li>
</ul>
${figures.map((f) => `{{figure:${f.id}}}`).join("\n")}
<p>Each elementwise plugin's <code>f′</code> was compared with central differences of its <code>f</code> at 48
points away from kinks: the largest relative gap is ${esc(num(worst, 1))}.</p>
${htmlTable(["activation", "package", "f(x)", "parameters (defaults)", "range", "f′(−5)", "f′(0)", "f′(5)", "f′ check"], rows, 5)}
${skipped.length ? `<p>Not drawn: ${skipped.map((s) => `<code>${esc(s.name)}</code> (${esc(s.reason)})`).join(", ")}.</p>` : ""}`;
  const axis = plugins.filter((p) => p.type === "axis").map((p) => p.name);
  ctx.progress.line(`  drew ${curves.size} activations in ${figures.length} figures (${families.join(", ")}); largest f′ check gap ${num(worst, 1)}`);
  return {
    id: "gallery",
    title: TITLE,
    html,
    figures,
    findings: {
      plotted: [...curves.keys()],
      axis,
      skipped,
      families: Object.fromEntries(families.map((f) => [f, byFamily.get(f)!.map((p) => p.name)])),
      derivativeCheck: Object.fromEntries([...curves.values()].filter((c) => c.kind === "elementwise").map((c) => [c.name, c.derivativeCheck])),
      saturation: Object.fromEntries([...curves.values()].map((c) => [c.name, { dfAtMinus5: c.df[c.xs.findIndex((v) => Math.abs(v + 5) < 1e-9)], dfAt0: c.df[(c.xs.length - 1) / 2] }])),
    },
    highlights: [`${curves.size} activations drawn (${axis.length ? `${axis.join(", ")} on a small example` : "none on an axis"}${skipped.length ? `; skipped ${skipped.map((s) => s.name).join(", ")}` : ""}), f′ matches finite differences to ${num(worst, 1)}`],
  };
}
