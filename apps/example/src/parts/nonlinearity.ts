import { type Sequential, type Tensor, adam, matmul, noGrad, scope, tensor } from "@neurite/core";
import { boundaryChart, type BoundaryData } from "../plot/charts.js";
import type { Figure, PartResult, TourContext } from "../context.js";
import { type Dataset, spirals } from "../datasets/index.js";
import { esc, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";

export const TITLE = "1. Why non-linearity";

/** The model's P(class 1) over a grid covering the data, for drawing its decision boundary. */
export function boundaryData(model: Sequential, d: Dataset, extent: readonly [number, number] = [-2.6, 2.6], cells = 40): BoundaryData {
  const [lo, hi] = extent;
  const step = (hi - lo) / cells;
  const centres: number[][] = [];
  for (let j = 0; j < cells; j++) for (let i = 0; i < cells; i++) centres.push([lo + (i + 0.5) * step, lo + (j + 0.5) * step]);
  const p = scope(() => model.predict(tensor(centres)).dataSync().slice());
  return {
    cells: centres.map(([cx, cy], k) => ({ x0: cx! - step / 2, y0: cy! - step / 2, x1: cx! + step / 2, y1: cy! + step / 2, p: p[k]! })),
    points: d.x.map((r, k) => ({ x: r[0]!, y: r[1]!, label: d.classes[d.labels[k]!]! })),
    extent,
  };
}

/** The weights of each dense layer: kernel [in, out] and bias [out]. */
function denseWeights(model: Sequential): { kernel: Tensor; bias: Tensor }[] {
  return model.layers.map((l) => {
    const kernel = l.weights.find((w) => w.name.endsWith("/kernel"));
    const bias = l.weights.find((w) => w.name.endsWith("/bias"));
    if (!kernel || !bias) throw new Error(`layer ${l.name} is not a dense layer with a bias`);
    return { kernel, bias };
  });
}

/**
 * Collapses the linear layers of `model` (every layer but the output sigmoid is linear) into one map:
 * W = W₁·W₂·…·Wₙ and b = (…(b₁·W₂ + b₂)·W₃ + …) + bₙ, then compares σ(x·W + b) with the model's output.
 */
export function collapseLinear(model: Sequential, x: Tensor): { weights: number[]; bias: number; maxAbsDiff: number; agreement: number } {
  return noGrad(() =>
    scope(() => {
      const layers = denseWeights(model);
      let w: Tensor = layers[0]!.kernel;
      let b: Tensor = layers[0]!.bias;
      for (const l of layers.slice(1)) {
        b = matmul(b.reshape([1, -1]), l.kernel).reshape([-1]).add(l.bias);
        w = matmul(w, l.kernel);
      }
      const z = matmul(x, w).add(b);
      const collapsed = z.sigmoid().dataSync();
      const network = model.predict(x).dataSync();
      let maxAbsDiff = 0;
      let same = 0;
      for (let i = 0; i < network.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(collapsed[i]! - network[i]!));
        if (collapsed[i]! > 0.5 === network[i]! > 0.5) same++;
      }
      return { weights: [...w.dataSync()], bias: b.item(), maxAbsDiff, agreement: same / network.length };
    }),
  );
}

/** Part 1: the same network on the two spirals, with the identity activation and with ReLU. */
export async function runNonlinearity(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const data = spirals({ n: ctx.quick ? 300 : 400, turns: 1, seed: ctx.seed });
  const [x, y] = toTensors(data, "binary");
  const hidden = [32, 32];
  const epochs = ctx.quick ? 50 : 100;
  const results: Record<string, { accuracy: number; finalLoss: number; model: Sequential }> = {};
  for (const activation of ["linear", "relu"]) {
    const model = mlp(2, hidden, activation, 2, ctx.seed);
    model.compile({ optimizer: adam({ lr: 0.02 }), loss: "binaryCrossEntropy", metrics: ["accuracy"] });
    const r = await trainRun(ctx, {
      part: "nonlinearity", label: `${activation === "linear" ? "identity" : activation} on spirals`, dataset: "spirals", activation,
      model, train: [x, y], epochs, batchSize: 32,
    });
    results[activation] = { accuracy: r.accuracy, finalLoss: r.finalLoss, model };
  }
  const linear = results.linear!;
  const relu = results.relu!;
  const collapse = collapseLinear(linear.model, x);
  const figures: Figure[] = [
    {
      id: "nonlinearity-identity",
      title: "Identity activation: a straight boundary",
      caption: `2 → ${hidden.join(" → ")} → 1 with f(x) = x in the hidden layers: accuracy ${pct(linear.accuracy)}. Three layers, one line.`,
      spec: boundaryChart(boundaryData(linear.model, data), "Identity (no non-linearity)", `accuracy ${pct(linear.accuracy)}`),
    },
    {
      id: "nonlinearity-relu",
      title: "ReLU: the boundary follows the spirals",
      caption: `The same network and seed with ReLU: accuracy ${pct(relu.accuracy)}.`,
      spec: boundaryChart(boundaryData(relu.model, data), "ReLU", `accuracy ${pct(relu.accuracy)}`),
    },
  ];
  const [w1, w2] = collapse.weights;
  const eq = `ŷ = σ(${num(w1!)}·x₁ ${w2! < 0 ? "−" : "+"} ${num(Math.abs(w2!))}·x₂ ${collapse.bias < 0 ? "−" : "+"} ${num(Math.abs(collapse.bias))})`;
  const html = `
<p>A layer computes <code>z = W·a + b</code>, then <code>a = f(z)</code>. Without a non-linear <code>f</code>, stacked
layers collapse into one linear map: <code>W₂(W₁a + b₁) + b₂ = (W₂W₁)a + (W₂b₁ + b₂)</code>. Here the same network
(2 → ${hidden.join(" → ")} → 1, sigmoid output, seed ${ctx.seed}, ${epochs} epochs of Adam) learns two interleaved
spirals (${data.x.length} points) twice: once with the identity <code>f(x) = x</code> in its hidden layers, once with
ReLU.</p>
<ul>
<li>identity: accuracy <b>${pct(linear.accuracy)}</b> (chance is 50 %), loss ${num(linear.finalLoss)}</li>
<li>ReLU: accuracy <b>${pct(relu.accuracy)}</b>, loss ${num(relu.finalLoss)}</li>
</ul>
{{figure:nonlinearity-identity}}
{{figure:nonlinearity-relu}}
<p>Multiplying the trained identity network's weight matrices (2×${hidden[0]}, ${hidden[0]}×${hidden[1]},
${hidden[1]}×1) gives one 2×1 matrix and one bias: <code>${esc(eq)}</code>. This single linear map reproduces the
three-layer network: the largest difference between their outputs over the data is ${num(collapse.maxAbsDiff)}, and
they agree on ${pct(collapse.agreement)} of the predictions. Its boundary is the line where
<code>${num(w1!)}·x₁ + ${num(w2!)}·x₂ + ${num(collapse.bias)} = 0</code>; no such line separates spirals.</p>`;
  const result: PartResult = {
    id: "nonlinearity",
    title: TITLE,
    html,
    figures,
    findings: {
      hidden,
      epochs,
      samples: data.x.length,
      identityAccuracy: linear.accuracy,
      identityLoss: linear.finalLoss,
      reluAccuracy: relu.accuracy,
      reluLoss: relu.finalLoss,
      collapsed: collapse,
    },
    highlights: [
      `identity ${pct(linear.accuracy)} vs ReLU ${pct(relu.accuracy)} on the spirals`,
      `the identity network = one linear map ${eq} (max output difference ${num(collapse.maxAbsDiff)}, ${pct(collapse.agreement)} same predictions)`,
    ],
  };
  linear.model.dispose();
  relu.model.dispose();
  x.dispose();
  y.dispose();
  return result;
}
