/** The checks of a model call's data arguments, shared by the model's entry points and `fit`. */
import { ArgumentError, NeuriteError, ShapeError, fmtShape } from "../errors.js";
import { Tensor } from "../tensor/tensor.js";
import { describeValue } from "../validation/options.js";

/** Checks that a call's data argument is a live tensor with a batch axis. */
export function checkBatch(op: string, name: string, t: unknown, expected: readonly number[] | undefined): asserts t is Tensor {
  const example = `[batch, ${expected ? expected.join(", ") : "features"}]`;
  if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a tensor of shape ${example}, got ${describeValue(t)}; create it with tensor(...)`);
  if (t.isDisposed) throw new NeuriteError(`${op}: ${name} was already disposed; keep it (keep(t)) or create it outside the scope that freed it`);
  if (t.rank === 0) {
    throw new ShapeError(`${op}: ${name} must have a batch axis, got a scalar; pass a batch of samples, e.g. shape ${example}${expected ? ` (one sample as [1, ${expected.join(", ")}])` : ""}`);
  }
}

/** Checks that x and y hold the same number of samples, and at least one where `nonEmpty`. */
export function checkSamples(op: string, x: Tensor, y: Tensor, nonEmpty: boolean): void {
  if (x.shape[0] !== y.shape[0]) throw new ShapeError(`${op}: x has ${x.shape[0]} samples (shape ${fmtShape(x.shape)}) but y has ${y.shape[0]} (shape ${fmtShape(y.shape)}); pass one target per sample`);
  if (nonEmpty && x.shape[0] === 0) throw new ArgumentError(`${op}: x has no samples (shape ${fmtShape(x.shape)}); pass at least one sample`);
}

