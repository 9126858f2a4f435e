import type { BoundActivation } from "../activation/contract.js";
import { activationMeta } from "../activation/registry.js";
import { scope } from "../autograd/scope.js";
import { noGrad } from "../autograd/record.js";
import { valueAndGradOf } from "../autograd/tape.js";
import type { Sequential } from "../model/sequential.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Callback } from "./callbacks.js";
import { type LossSpec, resolveLoss } from "./losses.js";

/** What the activation tutorial watches while training, for one layer. */
export interface LayerDiagnostics {
  readonly layer: string;
  readonly activation: string | undefined;
  /** L2 norm of the gradient of the loss with respect to the layer's weights. */
  readonly gradNorm: number;
  /** Fraction of units whose output is exactly 0 for every sample of the batch (dead ReLUs). */
  readonly deadFraction: number;
  /** Fraction of outputs within `saturationTolerance` of a finite bound of the activation's range (sigmoid, tanh). */
  readonly saturatedFraction: number;
}

function layerActivation(config: Readonly<Record<string, unknown>>): BoundActivation | undefined {
  const a = config.activation as BoundActivation | undefined;
  return a?.kind === "bound-activation" ? a : undefined;
}

function l2(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v * v;
  return Math.sqrt(s);
}

function unitStats(out: Float32Array, units: number, range: readonly [number, number] | undefined, tol: number): { dead: number; saturated: number } {
  const rows = out.length / units;
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let allZero = true;
    for (let r = 0; r < rows && allZero; r++) if (out[r * units + u] !== 0) allZero = false;
    if (allZero) dead++;
  }
  let saturated = 0;
  if (range && (Number.isFinite(range[0]) || Number.isFinite(range[1]))) {
    for (const v of out) if (Math.abs(v - range[0]) <= tol || Math.abs(v - range[1]) <= tol) saturated++;
  }
  return { dead: units ? dead / units : 0, saturated: out.length ? saturated / out.length : 0 };
}

/**
 * Per layer: gradient norm, dead units and saturated outputs on one batch, without changing the model.
 * Saturation counts only activations with a finite bound (sigmoid, tanh), not ReLU's 0.
 */
export function diagnose(model: Sequential, x: Tensor, y: Tensor, loss: LossSpec, saturationTolerance = 1e-3): LayerDiagnostics[] {
  const lossFn = resolveLoss(loss).fn;
  return scope(() => {
    const params = (model.build(x.shape.slice(1)), model.trainableWeights);
    const { grads } = valueAndGradOf(() => lossFn(y, model.apply(x, { training: false })), params);
    const normOf = new Map(params.map((p, i) => [p, l2(grads[i]!.dataSync())]));
    const outputs: Float32Array[] = [];
    noGrad(() => {
      let h = x;
      for (const layer of model.layers) {
        h = layer.instance!.call(h, { training: false, nextSeed: () => 0 });
        outputs.push(h.dataSync());
      }
    });
    return model.layers.map((layer, i) => {
      const act = layerActivation(layer.config);
      const units = layer.instance!.outputShape[layer.instance!.outputShape.length - 1] ?? 1;
      const smooth = act ? activationMeta(act) : undefined;
      // ReLU-type: its range starts at exactly 0 with a kink there; only finite non-zero bounds saturate
      const range = smooth && !(smooth.range[0] === 0 && !smooth.smoothAtZero) ? smooth.range : undefined;
      const stats = act && act.plugin.name !== "linear" ? unitStats(outputs[i]!, units, range, saturationTolerance) : { dead: 0, saturated: 0 };
      const gradNorm = Math.hypot(...layer.weights.filter((w) => w.trainable).map((w) => normOf.get(w) ?? 0));
      return { layer: layer.name, activation: act?.plugin.name, gradNorm, deadFraction: stats.dead, saturatedFraction: stats.saturated };
    });
  });
}

/** A callback that runs {@link diagnose} on a fixed batch every `every` epochs and hands the result to `onResult`. */
export function diagnosticsCallback(
  model: Sequential,
  batch: readonly [Tensor, Tensor],
  loss: LossSpec,
  onResult: (epoch: number, diagnostics: LayerDiagnostics[]) => void,
  every = 1,
): Callback {
  return {
    onEpochEnd: (epoch) => {
      if (epoch % every === 0) onResult(epoch, diagnose(model, batch[0], batch[1], loss));
    },
  };
}
