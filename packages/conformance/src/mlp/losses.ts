/** The losses of MLP files: which core loss a file's `loss_kind` names, its targets, and its compile() form. */
import {
  type BoundActivation, type LossSpec, type Tensor, binaryCrossEntropy, binaryCrossEntropyFromLogits,
  categoricalCrossEntropyFromLogits, mae, mse, sparseCategoricalCrossEntropyFromLogits,
} from "@neurite/core";
import { type RefTensor, Unsupported, refTensor } from "./schema.js";

export type LossKind = "softmax_cross_entropy" | "mse" | "mae" | "binary_cross_entropy";

export interface LossPlan {
  readonly kind: LossKind;
  /** Whether the loss reads the last layer's pre-activation z (logits) rather than its output a. */
  readonly fromLogits: boolean;
  readonly targets: RefTensor;
  /** Integer class labels rather than one-hot targets (softmax cross-entropy). */
  readonly sparse: boolean;
  fn(targets: Tensor, out: Tensor): Tensor;
}

function normalizeLossKind(kind: unknown): { kind: LossKind; logits?: boolean } {
  const k = String(kind).toLowerCase().replace(/[^a-z0-9]+/g, "_");
  switch (k) {
    case "softmax_cross_entropy": case "cross_entropy": case "categorical_cross_entropy": case "softmax_ce": case "ce":
      return { kind: "softmax_cross_entropy", logits: true };
    case "mse": case "mean_squared_error": case "mse_loss":
      return { kind: "mse" };
    case "mae": case "l1": case "l1_loss": case "mean_absolute_error":
      return { kind: "mae" };
    case "binary_cross_entropy": case "bce": case "bce_loss":
      return { kind: "binary_cross_entropy" };
    case "binary_cross_entropy_with_logits": case "bce_with_logits": case "bcewithlogits":
      return { kind: "binary_cross_entropy", logits: true };
    default:
      throw new Unsupported(`loss_kind ${JSON.stringify(kind)} is not one this runner knows; write one of softmax_cross_entropy, mse, mae, binary_cross_entropy (or binary_cross_entropy_with_logits)`);
  }
}

export interface DataSource {
  readonly x?: unknown;
  readonly labels?: unknown;
  readonly onehot?: unknown;
  readonly y?: unknown;
}

function isLabelList(t: RefTensor, n: number): boolean {
  return t.values.length === n && t.values.every((v) => Number.isInteger(v) && v >= 0) && (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1));
}

export function planLoss(
  kindField: unknown,
  definition: unknown,
  lastDLdaIsNull: boolean,
  data: DataSource,
  n: number,
  outUnits: number,
): LossPlan {
  if (kindField === undefined) throw new Unsupported("loss_kind is missing");
  const { kind, logits } = normalizeLossKind(kindField);
  const def = typeof definition === "string" ? definition : "";
  const outShape = [n, outUnits];
  const reshaped = (t: RefTensor, what: string): RefTensor => {
    if (t.values.length !== n * outUnits) throw new Unsupported(`${what} holds ${t.values.length} values; the network outputs ${n}×${outUnits}`);
    return { shape: outShape, values: t.values };
  };
  switch (kind) {
    case "softmax_cross_entropy": {
      const labels = data.labels !== undefined ? refTensor(data.labels, "labels") : undefined;
      const onehot = data.onehot !== undefined ? refTensor(data.onehot, "onehot") : undefined;
      const y = data.y !== undefined ? refTensor(data.y, "y") : undefined;
      const asLabels = labels ?? (y && isLabelList(y, n) ? y : undefined);
      if (asLabels) {
        if (!isLabelList(asLabels, n) || asLabels.values.some((v) => v >= outUnits)) throw new Unsupported(`labels are not ${n} class indices in [0, ${outUnits - 1}]`);
        return { kind, fromLogits: true, sparse: true, targets: { shape: [n], values: asLabels.values }, fn: sparseCategoricalCrossEntropyFromLogits };
      }
      const t = onehot ?? y;
      if (!t) throw new Unsupported("softmax_cross_entropy needs labels, onehot or y");
      return { kind, fromLogits: true, sparse: false, targets: reshaped(t, "onehot"), fn: categoricalCrossEntropyFromLogits };
    }
    case "mse":
    case "mae": {
      const src = data.onehot ?? data.y;
      if (src === undefined) throw new Unsupported(`${kind} needs onehot or y`);
      return { kind, fromLogits: false, sparse: false, targets: reshaped(refTensor(src, "targets"), "targets"), fn: kind === "mse" ? mse : mae };
    }
    case "binary_cross_entropy": {
      const src = data.y ?? data.labels;
      if (src === undefined) throw new Unsupported("binary_cross_entropy needs y");
      // PyTorch's BCELoss takes probabilities; BCEWithLogitsLoss (or a null dL/da of the output) reads the logits
      const fromLogits = logits === true || /with_?logits|from (the )?logits/i.test(def) || lastDLdaIsNull;
      return {
        kind,
        fromLogits,
        sparse: false,
        targets: reshaped(refTensor(src, "y"), "y"),
        fn: fromLogits ? binaryCrossEntropyFromLogits : binaryCrossEntropy,
      };
    }
  }
}

/** The same loss as a compile() spec, where one exists for this last layer (so trainOnBatch can run it). */
export function compileSpec(plan: LossPlan, last: BoundActivation): LossSpec | undefined {
  const lastName = last.plugin.name;
  switch (plan.kind) {
    case "softmax_cross_entropy": {
      const name = plan.sparse ? "sparseCategoricalCrossEntropy" : "categoricalCrossEntropy";
      if (lastName === "softmax") return name; // the model fuses softmax and cross-entropy through the logits
      return lastName === "linear" ? { name, fromLogits: true } : undefined;
    }
    case "mse":
    case "mae":
      return plan.kind;
    case "binary_cross_entropy":
      if (!plan.fromLogits) return "binaryCrossEntropy";
      return lastName === "linear" ? { name: "binaryCrossEntropy", fromLogits: true } : undefined;
  }
}

