import { scope } from "../autograd/scope.js";
import { noGrad, record } from "../autograd/tape.js";
import { engine } from "../tensor/engine.js";
import { binary, constant, input, unary, where } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape, fmtValue } from "../errors.js";
import { mul, sub } from "../ops/elementwise.js";
import { fused } from "../ops/fused.js";
import { logSumExp, mean, sum } from "../ops/reduce.js";
import { oneHot, reshape } from "../ops/shape-ops.js";
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
  const m = mean(t);
  if (!t.requiresGrad) t.dispose();
  return m;
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

/** Binary cross-entropy from logits z, stable for any z: max(z, 0) − z·t + log(1 + e^−|z|). */
export function binaryCrossEntropyFromLogits(yTrue: Tensor, logits: Tensor): Tensor {
  sameShapes("binaryCrossEntropyFromLogits", yTrue, logits);
  const z = input(0);
  const t = input(1);
  const e = z.max(0).sub(z.mul(t)).add(z.abs().neg().exp().log1p());
  return meanOf(fused("binaryCrossEntropyFromLogits", e, [logits, yTrue]));
}

/** −mean over the batch of Σ t·log p, from probabilities (logs clamped at −100). */
export function categoricalCrossEntropy(yTrue: Tensor, yPred: Tensor): Tensor {
  sameShapes("categoricalCrossEntropy", yTrue, yPred);
  const perElement = fused("categoricalCrossEntropy", input(1).mul(clampedLog(input(0))).neg(), [yPred, yTrue]);
  const perRow = sum(perElement, -1);
  if (!perElement.requiresGrad) perElement.dispose();
  return meanOf(perRow);
}

/**
 * Softmax + cross-entropy from logits, fused and stable (PyTorch's F.cross_entropy):
 * mean over the batch of logSumExp(z) − Σ t·z, with gradient (softmax(z)·Σt − t)/batch.
 */
export function categoricalCrossEntropyFromLogits(yTrue: Tensor, logits: Tensor): Tensor {
  sameShapes("categoricalCrossEntropyFromLogits", yTrue, logits);
  const batch = logits.size / (logits.shape[logits.rank - 1] ?? 1);
  const { loss, lse } = noGrad(() => scope(() => {
    const lse = logSumExp(logits, -1, true);
    // t·z is taken as 0 where t = 0, so −Infinity logits of other classes do not give NaN
    const tz = fused("crossEntropy", where(binary("eq", input(1), 0), 0, input(1).mul(input(0))), [logits, yTrue]);
    const perRow = sub(mul(reshape(lse, lse.shape.slice(0, -1)), sum(yTrue, -1)), sum(tz, -1));
    return { loss: mean(perRow), lse };
  }));
  if (engine.noGradDepth > 0 || !logits.requiresGrad) {
    lse.dispose();
    return loss;
  }
  return record(loss, "categoricalCrossEntropyFromLogits", [logits], (g) => {
    const softmaxMinusT = fused(
      "crossEntropy'",
      unary("exp", input(0).sub(input(1))).mul(input(3)).sub(input(2)).mul(input(4)).mul(1 / batch),
      [logits, lse, yTrue, sum(yTrue, -1, true), g],
    );
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
  const l = categoricalCrossEntropy(t, yPred);
  if (!l.requiresGrad) t.dispose();
  return l;
}

/** Cross-entropy with integer class labels, from logits: fused with the softmax. */
export function sparseCategoricalCrossEntropyFromLogits(labels: Tensor, logits: Tensor): Tensor {
  const t = labelsToOneHot("sparseCategoricalCrossEntropyFromLogits", labels, logits);
  const l = categoricalCrossEntropyFromLogits(t, logits);
  if (!l.requiresGrad) t.dispose();
  return l;
}

const LOSSES: Record<LossName, { probs: LossFn; logits?: LossFn; softmaxPair?: LossFn }> = {
  mse: { probs: mse },
  mae: { probs: mae },
  binaryCrossEntropy: { probs: binaryCrossEntropy, logits: binaryCrossEntropyFromLogits },
  categoricalCrossEntropy: { probs: categoricalCrossEntropy, logits: categoricalCrossEntropyFromLogits, softmaxPair: categoricalCrossEntropyFromLogits },
  sparseCategoricalCrossEntropy: { probs: sparseCategoricalCrossEntropy, logits: sparseCategoricalCrossEntropyFromLogits, softmaxPair: sparseCategoricalCrossEntropyFromLogits },
};

/** A resolved loss; `afterSoftmax` is its fused form when the model's last layer ends in a softmax. */
export interface ResolvedLoss {
  readonly name: string;
  readonly fn: LossFn;
  /** Cross-entropy of softmax(logits), computed from the logits. */
  readonly afterSoftmax?: LossFn;
}

export function resolveLoss(spec: LossSpec): ResolvedLoss {
  if (typeof spec === "function") return { name: spec.name || "loss", fn: spec };
  const name = typeof spec === "string" ? spec : spec?.name;
  const entry = LOSSES[name];
  if (!entry) throw new ArgumentError(`loss must be one of ${Object.keys(LOSSES).join(", ")} or a function, got ${fmtValue(spec)}`);
  const fromLogits = typeof spec === "object" && spec.fromLogits === true;
  if (fromLogits && !entry.logits) throw new ArgumentError(`loss ${name} has no fromLogits form`);
  return { name, fn: fromLogits ? entry.logits! : entry.probs, ...(!fromLogits && entry.softmaxPair ? { afterSoftmax: entry.softmaxPair } : {}) };
}
