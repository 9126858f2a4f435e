import { adam, argmax, fromValues, noGrad, scope, sequential } from "@neurite/core";
import type { PartResult, TourContext } from "../context.js";
import { digits, digitsRows, digitsSplit } from "../datasets/digits.js";
import { htmlTable, pct } from "../html.js";
import { type HeatCell, confusionChart, filterChart } from "../plot/charts.js";
import { trainRun } from "../train.js";

export const TITLE = "Digits: a small CNN";

const CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** counts[t][p]: how many test images of class t were predicted as p. */
export function confusionMatrix(actual: readonly number[], predicted: readonly number[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  actual.forEach((t, i) => m[t]![predicted[i]!]!++);
  return m;
}

/**
 * Trains the digits CNN of @neurite/layers-conv (conv 3×3×16 → relu → maxPool → conv 3×3×32 → relu →
 * globalAveragePooling → dense 10 softmax) on scikit-learn's 8×8 digits, and shows the learned first-layer
 * filters and the confusion matrix on the held-out images.
 */
export async function runDigits(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const data = digits();
  const split = digitsSplit(data.count, ctx.seed);
  const train = digitsRows(data, split.train);
  const test = digitsRows(data, split.test);
  const xTrain = fromValues(train.pixels, [train.labels.length, 8, 8, 1]);
  const yTrain = fromValues(Float32Array.from(train.labels), [train.labels.length]);
  const xTest = fromValues(test.pixels, [test.labels.length, 8, 8, 1]);
  const yTest = fromValues(Float32Array.from(test.labels), [test.labels.length]);
  const epochs = ctx.quick ? 8 : 40;
  const model = sequential([
    { type: "conv2d", filters: 16, kernelSize: 3, padding: "same", activation: "relu", inputShape: [8, 8, 1] },
    { type: "maxPool2d", poolSize: 2 },
    { type: "conv2d", filters: 32, kernelSize: 3, padding: "same", activation: "relu" },
    { type: "globalAveragePooling2d" },
    { type: "dense", units: 10, activation: "softmax" },
  ], { seed: ctx.seed });
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
  const r = await trainRun(ctx, {
    part: "digits", label: "digits CNN (8×8 images)", dataset: "digits", activation: "relu",
    model, train: [xTrain, yTrain], evaluate: [xTest, yTest], epochs, batchSize: 32,
  });
  const predicted = noGrad(() => scope(() => Array.from(argmax(model.predict(xTest), -1).dataSync())));
  const accuracy = predicted.filter((p, i) => p === test.labels[i]).length / test.labels.length;
  const confusion = confusionMatrix(test.labels, predicted, CLASSES.length);
  // the first conv layer's kernel is [3, 3, 1, 16] (NHWC, Keras's layout): filter f's (row, col) is at (row·3 + col)·16 + f
  const kernel = model.layers[0]!.weights[0]!;
  const [kh, kw, , filters] = kernel.shape as [number, number, number, number];
  const k = kernel.dataSync();
  const panels = Array.from({ length: filters }, (_, f) => `filter ${f + 1}`);
  const cells: HeatCell[] = [];
  for (let f = 0; f < filters; f++) {
    for (let row = 0; row < kh; row++) for (let col = 0; col < kw; col++) cells.push({ panel: panels[f]!, row, col, value: k[(row * kw + col) * filters + f]! });
  }
  ctx.progress.line(`  test accuracy ${pct(accuracy)} (${test.labels.length} held-out images, ${epochs} epochs)`);
  const worst = confusion
    .flatMap((row, t) => row.map((n, p) => ({ t, p, n })))
    .filter((c) => c.t !== c.p && c.n > 0)
    .sort((a, b) => b.n - a.n)[0];
  const html = `
<p>A small convolutional network from <code>@neurite/layers-conv</code> (conv 3×3 ×16 → ReLU → max pooling → conv
3×3 ×32 → ReLU → global average pooling → dense 10 with softmax, NHWC) learns scikit-learn's 8×8 handwritten digits
(${train.labels.length} images for training, ${test.labels.length} held out) in ${epochs} epochs: <b>${pct(accuracy)}</b>
of the held-out images are classified right (chance is 10 %).</p>
{{figure:digits-filters}}
{{figure:digits-confusion}}
${htmlTable(["class", "test images", "right"], confusion.map((row, t) => [CLASSES[t]!, String(row.reduce((a, b) => a + b, 0)), pct(row[t]! / Math.max(1, row.reduce((a, b) => a + b, 0)))]), 1)}`;
  model.dispose();
  for (const t of [xTrain, yTrain, xTest, yTest]) t.dispose();
  return {
    id: "digits",
    title: TITLE,
    html,
    figures: [
      {
        id: "digits-filters",
        title: "The learned first-layer filters",
        caption: "The 16 kernels of the first 3×3 convolution after training, one shared colour scale (red positive, blue negative).",
        spec: filterChart(cells, "First-layer filters (3×3)", panels),
      },
      {
        id: "digits-confusion",
        title: "Confusion matrix on the held-out digits",
        caption: "Rows: the true digit; columns: the network's prediction. The diagonal is right.",
        spec: confusionChart(confusion, CLASSES, `Held-out digits: ${pct(accuracy)} right`),
      },
    ],
    findings: { epochs, trainImages: train.labels.length, testImages: test.labels.length, accuracy, evaluatedAccuracy: r.accuracy, confusion },
    highlights: [
      `test accuracy ${pct(accuracy)} on ${test.labels.length} held-out 8×8 digits after ${epochs} epochs` +
        (worst ? `; the most frequent mistake is ${CLASSES[worst.t]} read as ${CLASSES[worst.p]} (${worst.n}×)` : ""),
    ],
  };
}
