import { type LayerDiagnostics, activations, adam, diagnose, diagnosticsCallback } from "@neurite/core";
import { lineChart, type SeriesPoint } from "../plot/charts.js";
import type { PartResult, TourContext } from "../context.js";
import { spirals } from "../datasets/index.js";
import { htmlTable, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";

export const TITLE = "5. Dead ReLUs";

/** Units that output exactly 0 for every sample, as a fraction of all hidden units. */
function deadFraction(d: readonly LayerDiagnostics[]): number {
  const hidden = d.slice(0, -1); // the output layer is not a hidden unit
  return hidden.reduce((s, l) => s + l.deadFraction, 0) / Math.max(1, hidden.length);
}

/** Part 5: the fraction of dead units while training at a high learning rate. */
export async function runDeadRelus(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const data = spirals({ n: ctx.quick ? 240 : 400, turns: 1, seed: ctx.seed + 3 });
  const [x, y] = toTensors(data, "binary");
  const hidden = [32, 32, 32];
  const lr = 0.05;
  /** A gentle rate, for comparison: the same ReLU network kills far fewer units. */
  const gentle = 0.005;
  const epochs = ctx.quick ? 12 : 30;
  const runs = [
    { key: "relu", activation: "relu", lr },
    { key: "leakyRelu", activation: "leakyRelu", lr },
    { key: "elu", activation: "elu", lr },
    { key: `relu (lr ${gentle})`, activation: "relu", lr: gentle },
  ].filter((r) => activations.has(r.activation));
  const contestants = runs.map((r) => r.key);
  const curves: Record<string, number[]> = {};
  const finals: Record<string, { dead: number; peak: number; accuracy: number; finalLoss: number; perLayer: number[] }> = {};
  for (const { key, activation, lr: rate } of runs) {
    const model = mlp(2, hidden, activation, 2, ctx.seed);
    const series = [deadFraction(diagnose(model, x, y, "binaryCrossEntropy"))];
    let last: LayerDiagnostics[] = [];
    model.compile({ optimizer: adam({ lr: rate }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const watch = diagnosticsCallback(model, [x, y], "binaryCrossEntropy", (_epoch, d) => {
      series.push(deadFraction(d));
      last = d;
    });
    const r = await trainRun(ctx, { part: "dead-relus", label: `${activation}, lr ${rate}`, dataset: "spirals", activation, model, train: [x, y], epochs, batchSize: 16, callbacks: [watch] });
    curves[key] = series;
    finals[key] = { dead: series[series.length - 1]!, peak: Math.max(...series), accuracy: r.accuracy, finalLoss: r.finalLoss, perLayer: last.slice(0, -1).map((l) => l.deadFraction) };
    model.dispose();
  }
  x.dispose();
  y.dispose();
  const points: SeriesPoint[] = contestants.flatMap((a) => curves[a]!.map((v, e) => ({ series: a, x: e, y: v })));
  const units = hidden.reduce((s, u) => s + u, 0);
  const html = `
<p>ReLU's gradient is zero for negative inputs. A large step can push a unit's weights and bias so that its input
is negative for every sample; from then on it outputs 0, gets no gradient, and never recovers: a dead ReLU. Here
a 2 → ${hidden.join(" → ")} → 1 network trains on the spirals with Adam at a high learning rate (${lr}, batches of 16),
and core's <code>diagnosticsCallback</code> counts after every epoch the hidden units (of ${units}) whose output is
exactly 0 for every training point. LeakyReLU (slope α = 0.01 below 0) and ELU (α(e<sup>x</sup> − 1) below 0) keep a
gradient for negative inputs, so their units cannot die this way. For comparison, the same ReLU network at a gentle
learning rate (${gentle}).</p>
{{figure:dead-relus}}
${htmlTable(
  ["activation", "dead at the end", "most dead", "per hidden layer at the end", "accuracy", "final loss"],
  contestants.map((a) => {
    const f = finals[a]!;
    return [a, pct(f.dead), pct(f.peak), f.perLayer.map((v) => pct(v, 0)).join(" / "), pct(f.accuracy), num(f.finalLoss, 4)];
  }),
)}`;
  return {
    id: "dead-relus",
    title: TITLE,
    html,
    figures: [
      {
        id: "dead-relus",
        title: "Dead units during training",
        caption: `Fraction of hidden units that output 0 for every training point, after each epoch (epoch 0 = before training); Adam at lr ${lr}, and ReLU at lr ${gentle} for comparison.`,
        spec: lineChart(points, { title: `Dead hidden units at a high learning rate (lr ${lr})`, xTitle: "epoch", yTitle: "fraction of hidden units dead", points: true, seriesOrder: contestants, seriesTitle: "activation" }),
      },
    ],
    findings: { lr, gentleLr: gentle, hidden, epochs, curves, final: finals },
    highlights: [`dead hidden units at the end: ${contestants.map((a) => `${a} ${pct(finals[a]!.dead)}`).join(", ")}`],
  };
}
