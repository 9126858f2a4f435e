import {
  ConfigReader, ShapeError, type Tensor, type Variable, add, defineLayer, mean, mul, noGrad, rsqrt, square, sub,
} from "@neurite/core";
import { fmtShape } from "./geometry.js";
import { type Track, composed } from "./patches.js";

/** The learned and running parameters of a batch normalization, each of shape [channels]. */
export interface BatchNormParams {
  /** γ, the learned scale. */
  readonly scale: Tensor;
  /** β, the learned offset. */
  readonly offset: Tensor;
  readonly runningMean: Variable;
  readonly runningVariance: Variable;
  /** Added to the variance before the square root; PyTorch's default 1e-5. */
  readonly epsilon: number;
  /** Weight of the batch statistics in the running update; PyTorch's default 0.1. */
  readonly momentum: number;
}

/** (x − μ)·γ/√(σ² + ε) + β, in ops that autograd differentiates. */
function normalize(x: Tensor, center: Tensor, variance: Tensor, p: BatchNormParams, track: Track): Tensor {
  const factor = track(mul(track(rsqrt(track(add(variance, p.epsilon)))), p.scale));
  return add(track(mul(track(sub(x, center)), factor)), p.offset);
}

/**
 * Batch normalization over the last axis (the channels of NHWC images, the features of [batch, features]), with
 * PyTorch's semantics. Training: normalizes by the batch's mean and biased variance, and updates the running
 * statistics in place as `running = (1 − momentum)·running + momentum·batch`, with the *unbiased* variance
 * (n / (n − 1)). Inference: normalizes by the running statistics.
 */
export function batchNorm(x: Tensor, params: BatchNormParams, training: boolean): Tensor {
  const channels = params.scale.shape[0]!;
  if (x.rank < 2 || x.shape[x.rank - 1] !== channels) {
    throw new ShapeError(`batchNormalization: expected inputs with ${channels} channels on the last axis (NHWC), got shape ${fmtShape(x.shape)}`);
  }
  if (!training) return composed((track) => normalize(x, params.runningMean, params.runningVariance, params, track));
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / channels;
  if (count < 2) {
    throw new ShapeError(`batchNormalization: training needs more than one value per channel to estimate a variance, got shape ${fmtShape(x.shape)}; use a batch of 2 or more`);
  }
  return composed((track) => {
    const batchMean = track(mean(x, axes));
    // two passes (mean, then the mean squared deviation): no cancellation for data far from zero
    const batchVariance = track(mean(track(square(track(sub(x, batchMean)))), axes));
    updateRunning(params, batchMean, batchVariance, count);
    return normalize(x, batchMean, batchVariance, params, track);
  });
}

/** running = (1 − momentum)·running + momentum·batch, the variance made unbiased (n / (n − 1)), as PyTorch. */
function updateRunning(params: BatchNormParams, batchMean: Tensor, batchVariance: Tensor, count: number): void {
  noGrad(() => {
    const m = params.momentum;
    const update = (running: Variable, batch: Tensor, correction: number): void => {
      const kept = mul(running, 1 - m);
      const fresh = mul(batch, m * correction);
      const next = add(kept, fresh);
      running.assign(next);
      for (const t of [kept, fresh, next]) t.dispose();
    };
    update(params.runningMean, batchMean, 1);
    update(params.runningVariance, batchVariance, count / (count - 1));
  });
}

/** The batchNormalization layer's config. */
export interface BatchNormalizationConfig {
  /**
   * Weight of the new batch's statistics in the running update, PyTorch's convention and default (0.1):
   * running = (1 − momentum)·running + momentum·batch. Keras's momentum is the other weight (its 0.99 is 0.01 here).
   */
  readonly momentum: number;
  /** Added to the variance; default 1e-5 (PyTorch's; Keras uses 1e-3). */
  readonly epsilon: number;
  readonly inputShape?: readonly number[];
}

/**
 * Batch normalization over the last axis, PyTorch's semantics: learned scale ("gamma", ones) and offset ("beta",
 * zeros); running mean ("movingMean", zeros) and unbiased running variance ("movingVariance", ones), not trained.
 */
export const batchNormalization = defineLayer<BatchNormalizationConfig>({
  name: "batchNormalization",
  description: "normalizes each channel (last axis) by batch statistics while training, running statistics at inference",
  configure(config) {
    const r = new ConfigReader("batchNormalization", config, ["momentum", "epsilon", "inputShape"]);
    const inputShape = r.shape("inputShape");
    return {
      momentum: r.number("momentum", 0.1, (v) => v >= 0 && v <= 1, "in [0, 1] (PyTorch's convention: the weight of the new batch; Keras's 0.99 is 0.01 here)"),
      epsilon: r.number("epsilon", 1e-5, (v) => Number.isFinite(v) && v > 0, "a positive finite number"),
      ...(inputShape ? { inputShape } : {}),
    };
  },
  build(config, inputShape, ctx) {
    const channels = inputShape[inputShape.length - 1];
    if (channels === undefined) throw new ShapeError(`layer batchNormalization: input shape ${fmtShape(inputShape)} has no channel axis`);
    const params: BatchNormParams = {
      scale: ctx.addWeight("gamma", [channels], "ones"),
      offset: ctx.addWeight("beta", [channels], "zeros"),
      runningMean: ctx.addWeight("movingMean", [channels], "zeros", { trainable: false }),
      runningVariance: ctx.addWeight("movingVariance", [channels], "ones", { trainable: false }),
      epsilon: config.epsilon,
      momentum: config.momentum,
    };
    return { outputShape: inputShape, call: (x, ctx2) => batchNorm(x, params, ctx2.training) };
  },
});
