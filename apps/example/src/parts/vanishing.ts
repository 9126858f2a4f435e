import { type LayerDiagnostics, adam, diagnose } from "@neurite/core";
import { lineChart, type SeriesPoint } from "../plot/charts.js";
import type { PartResult, TourContext } from "../context.js";
import { xor } from "../datasets/index.js";
import { htmlTable, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";

export const TITLE = "4. Vanishing gradients";

/** Part 4: a deep, narrow network with sigmoid and with ReLU, and the gradient each layer gets at the start. */
export async function runVanishing(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const depth = 10;
  const width = 16;
  const hidden = Array.from({ length: depth }, () => width);
  const data = xor({ n: ctx.quick ? 200 : 400, seed: ctx.seed + 2 });
  const [x, y] = toTensors(data, "binary");
  const epochs = ctx.quick ? 10 : 30;
  const contestants = ["sigmoid", "relu"] as const;
  const atStart: Record<string, LayerDiagnostics[]> = {};
  const training: Record<string, { finalLoss: number; accuracy: number; losses: readonly number[] }> = {};
  for (const activation of contestants) {
    const model = mlp(2, hidden, activation, 2, ctx.seed);
    // the gradient of the loss with respect to each layer's weights, before any step
    atStart[activation] = diagnose(model, x, y, "binaryCrossEntropy");
    model.compile({ optimizer: adam({ lr: 0.005 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const r = await trainRun(ctx, { part: "vanishing", label: `${activation} ×${depth} on xor`, dataset: "xor", activation, model, train: [x, y], epochs, batchSize: 32 });
    training[activation] = r;
    model.dispose();
  }
  x.dispose();
  y.dispose();
  const norms = (a: string) => atStart[a]!.map((d) => d.gradNorm);
  const sig = norms("sigmoid");
  const relu = norms("relu");
  const ratio = relu[0]! / sig[0]!;
  const points: SeriesPoint[] = contestants.flatMap((a) => norms(a).map((g, i) => ({ series: a, x: i + 1, y: g })));
  const rows = sig.map((g, i) => [
    i < depth ? `${i + 1}${i === 0 ? " (first)" : ""}` : `${i + 1} (output)`,
    num(g), num(relu[i]!), num(relu[i]! / g, 1),
  ]);
  const html = `
<p>A deep, narrow network: ${depth} hidden layers of ${width} units (2 → ${width} × ${depth} → 1) on XOR, with the same
seed and Glorot-uniform initial weights, once with sigmoid and once with ReLU in every hidden layer. Core's
<code>diagnose</code> measures, before the first step, the norm of the loss's gradient with respect to each layer's
weights. Backpropagation multiplies the gradient by <code>f′(z)</code> at every layer; sigmoid's <code>σ′ = σ(1−σ)</code>
is at most 0.25, so over ${depth} layers the first layer's gradient shrinks by orders of magnitude. ReLU's slope is 1
for positive inputs and passes the gradient through.</p>
{{figure:vanishing-gradnorm}}
${htmlTable(["layer", "‖∇W‖ sigmoid", "‖∇W‖ relu", "relu / sigmoid"], rows)}
<p>First layer: sigmoid ${num(sig[0]!)}, ReLU ${num(relu[0]!)}: ${num(ratio, 0)} times smaller with sigmoid. After
${epochs} epochs of Adam the sigmoid network's loss is ${num(training.sigmoid!.finalLoss, 4)} (accuracy
${pct(training.sigmoid!.accuracy)}), the ReLU network's ${num(training.relu!.finalLoss, 4)} (accuracy
${pct(training.relu!.accuracy)}).</p>
{{figure:vanishing-loss}}`;
  return {
    id: "vanishing",
    title: TITLE,
    html,
    figures: [
      {
        id: "vanishing-gradnorm",
        title: "Gradient norm per layer at the start of training",
        caption: `‖∂loss/∂W‖ of each layer (log scale), layer 1 nearest the input; ${depth} sigmoid vs ${depth} ReLU hidden layers.`,
        spec: lineChart(points, { title: "Gradient norm per layer, before training", xTitle: "layer (1 = first)", yTitle: "‖∂loss/∂W‖", logY: true, points: true, seriesTitle: "activation" }),
      },
      {
        id: "vanishing-loss",
        title: "Training the deep networks",
        caption: `Mean training loss per epoch of the two ${depth}-layer networks.`,
        spec: lineChart(
          contestants.flatMap((a) => training[a]!.losses.map((l, e) => ({ series: a, x: e + 1, y: l }))),
          { title: `Training loss, ${depth} hidden layers`, xTitle: "epoch", yTitle: "binary cross-entropy", seriesTitle: "activation" },
        ),
      },
    ],
    findings: {
      depth,
      width,
      gradNorms: { sigmoid: sig, relu },
      firstLayer: { sigmoid: sig[0], relu: relu[0], ratio },
      training: Object.fromEntries(contestants.map((a) => [a, { finalLoss: training[a]!.finalLoss, accuracy: training[a]!.accuracy }])),
    },
    highlights: [`first-layer gradient norm: sigmoid ${num(sig[0]!)} vs relu ${num(relu[0]!)} (${num(ratio, 0)}× smaller)`],
  };
}
