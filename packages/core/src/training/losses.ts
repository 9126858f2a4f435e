import { scope } from "../autograd/scope.js";
import { noGrad, record, releaseTemporaries } from "../autograd/record.js";
import { scopeState } from "../autograd/scope-state.js";
import { binary, constant, input, scalar, unary, where } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { boolean, describeValue, nonEmptyString, readOptions } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";
import { fused } from "../ops/fused.js";
import { max, mean, sum } from "../ops/reduce.js";
import { oneHot } from "../ops/shape-ops.js";
import { sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** A loss: mean over the batch (and over outputs for mse/mae) of a per-element penalty. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

export type LossName = "mse" | "mae" | "binaryCrossEntropy" | "categoricalCrossEntropy" | "sparseCategoricalCrossEntropy";

/** A loss by name (from probabilities, unless `fromLogits`), or a function. */
export type LossSpec = LossName | { readonly name: LossName; readonly fromLogits?: boolean } | LossFn;

function sameShapes(name: string, yTrue: Tensor, yPred: Tensor): void {
  if (!sameShape(yTrue.shape, yPred.shape)) {
    throw new ShapeError(`${name}: targets ${fmtShape(yTrue.shape)} and predictions ${fmtShape(yPred.shape)} must have the same shape`);
  }
}

/** mean(t), freeing t when no gradient needs it (the per-element penalties are temporaries). */
function meanOf(t: Tensor): Tensor {
  // t requires grad exactly when m does (mean records when its input does)
  return releaseTemporaries(mean(t), t);
}

/** Mean squared error over every element. */
export function mse(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes("mse", yTrue, yPred);
  return meanOf(fused("mse", input(0).sub(input(1)).square(), [yPred, yTrue]));
}

/** Mean absolute error over every element. */
export function mae(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes("mae", yTrue, yPred);
  return meanOf(fused("mae", input(0).sub(input(1)).abs(), [yPred, yTrue]));
}

// log clamped at −100 as PyTorch's BCELoss, so p = 0 or 1 gives a finite loss
const clampedLog = (e: ReturnType<typeof input>) => unary("log", e).max(-100);

/** −mean(t·log p + (1 − t)·log(1 − p)) from probabilities p (logs clamped at −100, as PyTorch). */
export function binaryCrossEntropy(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes("binaryCrossEntropy", yTrue, yPred);
  const p = input(0);
  const t = input(1);
  const e = t.mul(clampedLog(p)).add(constant(1).sub(t).mul(clampedLog(constant(1).sub(p)))).neg();
  return meanOf(fused("binaryCrossEntropy", e, [yPred, yTrue]));
}

// max(z, 0) − z·t written per sign, z·(1 − t) or −z·t: one rounding each, where z − z·t cancels for t near 1
// (z = 1e5, t = 1 − 2⁻²⁴ lost every digit)
const BCE_LOGITS = where(binary("ge", input(0), 0), input(0).mul(constant(1).sub(input(1))), input(0).neg().mul(input(1)))
  .add(input(0).abs().neg().exp().log1p());
// the derivatives written out: σ(z) − t, with no kink of max(z, 0) or |z| at z = 0; and −z for the targets
const BCE_LOGITS_DERIVATIVES = [unary("sigmoid", input(0)).sub(input(1)), input(0).neg()];

/**
 * Binary cross-entropy from logits z, exact for any finite z: max(z, 0) − z·t + log(1 + e^−|z|), with the
 * gradient (σ(z) − t)/n.
 */
export function binaryCrossEntropyFromLogits(yTrue: Tensor, logits: Tensor): Tensor {
  sameShapes("binaryCrossEntropyFromLogits", yTrue, logits);
  return meanOf(fused("binaryCrossEntropyFromLogits", BCE_LOGITS, [logits, yTrue], [], { derivatives: BCE_LOGITS_DERIVATIVES }));
}

/** −mean over the batch of Σ t·log p, from probabilities (logs clamped at −100). */
export function categoricalCrossEntropy(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes("categoricalCrossEntropy", yTrue, yPred);
  const perElement = fused("categoricalCrossEntropy", input(1).mul(clampedLog(input(0))).neg(), [yPred, yTrue]);
  return meanOf(releaseTemporaries(sum(perElement, -1), perElement));
}

// Per element of a row with shift m (its max) and L = log Σ exp(z − m): t·(L − (z − m)), the −t·log softmax.
// z − m is formed first and L stays small, so nothing of the row's magnitude is rounded away (L + m rounded to
// float32 turned [1e5, 1e5] into 0.6953 and [2e7, 2e7] into 0). It is formed at half scale, as
// 2·t·(L/2 − (z/2 − m/2)) with exact halvings, so that z − m beyond −FLT_MAX ([3e38, −3e38]) still gives a
// finite t·(m − z) when that fits. t = 0 contributes 0 whatever z is.
const HALF = 0.5;
const CE_PER_ELEMENT = where(
  binary("eq", input(3), 0),
  0,
  input(3).mul(input(2).mul(HALF).sub(input(0).mul(HALF).sub(input(1).mul(HALF)))).mul(2),
);
// (softmax(z)·Σt − t)·g/batch, softmax as exp((z − m) − L): z − m = −∞ gives 0, never 0·∞
const CE_GRADIENT = unary("exp", input(0).sub(input(1)).sub(input(2))).mul(input(4)).sub(input(3)).mul(input(5)).mul(scalar(0));
// the row maximum, or 0 for a row whose maximum is ±∞ (∞ − ∞ would make NaN of a −∞ row; +∞ stays NaN below)
const FINITE_SHIFT = where(binary("eq", unary("abs", input(0)), Infinity), 0, input(0));

/**
 * Softmax + cross-entropy from logits, fused and exact for any finite logits (PyTorch's F.cross_entropy):
 * mean over the batch of Σ t·(L − (z − m)) with m the row maximum and L = log Σ exp(z − m), and gradient
 * (softmax(z)·Σt − t)/batch.
 */
export function categoricalCrossEntropyFromLogits(yTrue: Tensor, logits: Tensor): Tensor {
  sameShapes("categoricalCrossEntropyFromLogits", yTrue, logits);
  const batch = logits.size / (logits.shape[logits.rank - 1] ?? 1);
  const { loss, shift, logSum } = noGrad(() => scope(() => {
    const rowMax = max(logits, -1, true);
    const shift = fused("crossEntropy", FINITE_SHIFT, [rowMax]);
    const expSum = sum(fused("crossEntropy", unary("exp", input(0).sub(input(1))), [logits, shift]), -1, true);
    const logSum = fused("crossEntropy", unary("log", input(0)), [expSum]);
    const perRow = sum(fused("crossEntropy", CE_PER_ELEMENT, [logits, shift, logSum, yTrue]), -1);
    return { loss: mean(perRow), shift, logSum };
  }));
  if (scopeState.noGradDepth > 0 || !logits.requiresGrad) {
    shift.dispose();
    logSum.dispose();
    return loss;
  }
  return record(loss, "categoricalCrossEntropyFromLogits", [logits], (g) => {
    const tSum = sum(yTrue, -1, true);
    const softmaxMinusT = fused("crossEntropy'", CE_GRADIENT, [logits, shift, logSum, yTrue, tSum, g], [1 / batch]);
    tSum.dispose();
    return [softmaxMinusT];
  });
}

function labelsToOneHot(name: string, labels: Tensor, logits: Tensor): Tensor {
  const classes = logits.shape[logits.rank - 1]!;
  if (!sameShape(labels.shape, logits.shape.slice(0, -1))) {
    throw new ShapeError(`${name}: labels ${fmtShape(labels.shape)} must have the shape of the predictions without their last axis, ${fmtShape(logits.shape.slice(0, -1))}`);
  }
  const values = labels.dataSync();
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
  if (bad >= 0) throw new ArgumentError(`${name}: label ${values[bad]} at index ${bad} is not a class index in [0, ${classes - 1}]`);
  return oneHot(labels, classes);
}

/** Cross-entropy with integer class labels, from probabilities. */
export function sparseCategoricalCrossEntropy(labels: Tensor, yPred: Tensor): Tensor {
  const t = labelsToOneHot("sparseCategoricalCrossEntropy", labels, yPred);
  return releaseTemporaries(categoricalCrossEntropy(t, yPred), t);
}

/** Cross-entropy with integer class labels, from logits: fused with the softmax. */
export function sparseCategoricalCrossEntropyFromLogits(labels: Tensor, logits: Tensor): Tensor {
  const t = labelsToOneHot("sparseCategoricalCrossEntropyFromLogits", labels, logits);
  return releaseTemporaries(categoricalCrossEntropyFromLogits(t, logits), t);
}

/**
 * Each loss from probabilities, from logits (`{ fromLogits: true }`: sigmoid logits for the binary loss, softmax
 * logits for the categorical ones), and from the logits of a final softmax layer (used automatically).
 */
const LOSSES: Record<LossName, { probs: LossFn; fromLogits?: LossFn; fromSoftmaxLogits?: LossFn }> = {
  mse: { probs: mse },
  mae: { probs: mae },
  binaryCrossEntropy: { probs: binaryCrossEntropy, fromLogits: binaryCrossEntropyFromLogits },
  categoricalCrossEntropy: { probs: categoricalCrossEntropy, fromLogits: categoricalCrossEntropyFromLogits, fromSoftmaxLogits: categoricalCrossEntropyFromLogits },
  sparseCategoricalCrossEntropy: { probs: sparseCategoricalCrossEntropy, fromLogits: sparseCategoricalCrossEntropyFromLogits, fromSoftmaxLogits: sparseCategoricalCrossEntropyFromLogits },
};

/** A resolved loss; `fromSoftmaxLogits` is its fused form when the model's last layer ends in a softmax. */
export interface ResolvedLoss {
  readonly name: string;
  readonly fn: LossFn;
  /** The same loss of softmax(logits), computed from the logits (fused and exact). */
  readonly fromSoftmaxLogits?: LossFn;
}

const LOSS_OPTIONS = { name: nonEmptyString, fromLogits: boolean };

/**
 * A loss by name, `{ name, fromLogits }` or a function. Names are looked up as own keys only, so
 * "constructor" is an unknown loss, and a typo names the closest loss.
 */
export function resolveLoss(spec: LossSpec): ResolvedLoss {
  if (typeof spec === "function") return { name: spec.name || "loss", fn: spec };
  const names = Object.keys(LOSSES);
  const usage = `use one of ${names.join(", ")}, { name, fromLogits: true } or a function (yTrue, yPred) => loss`;
  if (typeof spec !== "string" && (spec === null || typeof spec !== "object")) throw new ArgumentError(`loss must be a name, { name, fromLogits } or a function, got ${describeValue(spec)}; ${usage}`);
  const options = typeof spec === "string" ? { name: spec } : readOptions("loss", spec, LOSS_OPTIONS);
  const name = options.name;
  if (name === undefined) throw new ArgumentError(`loss: { name, fromLogits } needs a name, got ${describeValue(spec)}; ${usage}`);
  if (!Object.hasOwn(LOSSES, name)) throw new ArgumentError(`unknown loss ${JSON.stringify(name)}${didYouMean(name, names)}; ${usage}`);
  const entry = LOSSES[name as LossName];
  const fromLogits = "fromLogits" in options && options.fromLogits === true;
  if (fromLogits && !entry.fromLogits) throw new ArgumentError(`loss ${name} has no fromLogits form`);
  return { name, fn: fromLogits ? entry.fromLogits! : entry.probs, ...(!fromLogits && entry.fromSoftmaxLogits ? { fromSoftmaxLogits: entry.fromSoftmaxLogits } : {}) };
}
