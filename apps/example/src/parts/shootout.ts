import { activations, adam } from "@neurite/core";
import { lineChart, type SeriesPoint } from "../plot/charts.js";
import type { PartResult, TourContext } from "../context.js";
import { spirals } from "../datasets/index.js";
import { esc, htmlTable, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";

export const TITLE = "3. Shoot-out";

/** The contestants: the tutorial's activations and this app's own. */
/** A little harder than part 1's spirals, so that the activations differ. */
const TURNS = 1.25;

export const CONTESTANTS = ["sigmoid", "tanh", "relu", "leakyRelu", "elu", "gelu", "bentIdentity"] as const;

/** Part 3: every contestant on the same task, network, seed and optimizer. */
export async function runShootout(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const data = spirals({ n: ctx.quick ? 240 : 400, turns: TURNS, seed: ctx.seed + 1 });
  const [x, y] = toTensors(data, "binary");
  const hidden = [24, 24];
  const epochs = ctx.quick ? 25 : 80;
  const lr = 0.01;
  const present = CONTESTANTS.filter((a) => activations.has(a));
  const missing = CONTESTANTS.filter((a) => !activations.has(a));
  const results: { activation: string; finalLoss: number; accuracy: number; msPerEpoch: number; losses: readonly number[] }[] = [];
  for (const activation of present) {
    const model = mlp(2, hidden, activation, 2, ctx.seed);
    model.compile({ optimizer: adam({ lr }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const r = await trainRun(ctx, { part: "shootout", label: activation, dataset: `spirals (${TURNS} turns)`, activation, model, train: [x, y], epochs, batchSize: 32 });
    results.push({ activation, ...r });
    model.dispose();
  }
  x.dispose();
  y.dispose();
  const curves: SeriesPoint[] = results.flatMap((r) => r.losses.map((l, e) => ({ series: r.activation, x: e + 1, y: l })));
  const ranked = [...results].sort((a, b) => a.finalLoss - b.finalLoss);
  const html = `
<p>The same task (two spirals with ${TURNS} turns, ${data.x.length} points), the same network (2 → ${hidden.join(" → ")} → 1),
the same seed (${ctx.seed}) and the same optimizer (Adam, lr ${lr}, ${epochs} epochs, batches of 32): only the hidden
activation changes. Accuracy is measured on the training points; time per epoch on the <code>${esc(ctx.backend)}</code>
backend.</p>
{{figure:shootout-loss}}
${htmlTable(["activation", "final loss", "accuracy", "ms / epoch"], ranked.map((r) => [r.activation, num(r.finalLoss, 4), pct(r.accuracy), r.msPerEpoch.toFixed(1)]))}
<p>Lowest final loss: ${esc(ranked.slice(0, 3).map((r) => r.activation).join(", "))}; highest:
${esc(ranked[ranked.length - 1]?.activation ?? "–")}. Why they differ: sigmoid's derivative is at most 0.25 and
saturates, so each layer scales the gradient down and learning stalls on a plateau; tanh is zero-centred with a
slope of up to 1. ReLU, LeakyReLU, ELU and GELU keep a slope of about 1 for positive inputs, so the gradient is not scaled down
layer after layer. This app's bentIdentity never saturates (its slope stays within (0.5, 1.5)) but is
only gently curved, so it needs more steps to bend the boundary.${missing.length ? ` Not registered, so not run: ${missing.join(", ")}.` : ""}</p>`;
  const best = ranked[0];
  return {
    id: "shootout",
    title: TITLE,
    html,
    figures: [
      {
        id: "shootout-loss",
        title: "Loss curves",
        caption: "Mean training loss per epoch (log scale) for each activation, same task and seed.",
        spec: lineChart(curves, { title: `Training loss by activation (spirals, ${TURNS} turns)`, xTitle: "epoch", yTitle: "binary cross-entropy", logY: true, seriesOrder: present, seriesTitle: "activation" }),
      },
    ],
    findings: {
      epochs,
      lr,
      hidden,
      missing,
      results: results.map(({ activation, finalLoss, accuracy, msPerEpoch, losses }) => ({ activation, finalLoss, accuracy, msPerEpoch, losses })),
    },
    highlights: best
      ? [`best final loss: ${best.activation} (${num(best.finalLoss, 4)}, ${pct(best.accuracy)}); worst: ${ranked[ranked.length - 1]!.activation} (${num(ranked[ranked.length - 1]!.finalLoss, 4)}, ${pct(ranked[ranked.length - 1]!.accuracy)})`]
      : ["no contestant is registered"],
  };
}
