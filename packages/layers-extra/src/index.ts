/**
 * @neurite/layers-extra: layers that live outside the core, written against the public Layer contract only.
 * Register the family with `use(extraLayers)`; models that use them then save and load like any other.
 */
import {
  type BoundActivation, ConfigReader, type Tensor, add, applyActivation, defineLayer, defineLayerFamily, fused, input,
  matmul, normal, releaseTemporaries, resolveActivation, scalar, type ActivationSpec,
} from "@neurite/core";
// the package's identity comes from its package.json (the bundler keeps only these two strings)
import { name as PACKAGE, version as VERSION } from "../package.json";

/** Config of {@link residualDense}. */
export interface ResidualDenseConfig {
  /** f in y = x + f(x·W + b); default "linear". */
  readonly activation: BoundActivation;
  readonly inputShape?: readonly number[];
}

/** Config of {@link gaussianNoise}. */
export interface GaussianNoiseConfig {
  /** Standard deviation of the noise added while training, ≥ 0. */
  readonly stddev: number;
  readonly inputShape?: readonly number[];
}

declare module "@neurite/core" {
  interface LayerRegistry {
    residualDense: ResidualDenseConfig;
    gaussianNoise: GaussianNoiseConfig;
  }
}

/** y = x + f(x·W + b) with a square W (the features are kept): a residual block. */
export const residualDense = defineLayer<ResidualDenseConfig>({
  name: "residualDense",
  description: "y = x + f(x·W + b), W square: a residual dense block",
  configure(config) {
    const r = new ConfigReader("residualDense", config, ["activation", "inputShape"]);
    const inputShape = r.shape("inputShape");
    const activation = resolveActivation((r.raw("activation") as ActivationSpec | undefined) ?? "linear");
    return { activation, ...(inputShape ? { inputShape } : {}) };
  },
  build(config, inputShape, ctx) {
    const features = inputShape[inputShape.length - 1] ?? 1;
    const kernel = ctx.addWeight("kernel", [features, features], "glorotUniform");
    const bias = ctx.addWeight("bias", [features], "zeros");
    return {
      outputShape: inputShape,
      // the intermediates are freed by the model's scope around each call
      call: (x: Tensor) => add(x, applyActivation(add(matmul(x, kernel), bias), config.activation)),
    };
  },
});

// x + stddev · n with the noise n drawn per call
const ADD_SCALED_NOISE = input(0).add(input(1).mul(scalar(0)));

/** Adds zero-mean Gaussian noise while training (a regulariser); the identity at inference, as in Keras. */
export const gaussianNoise = defineLayer<GaussianNoiseConfig>({
  name: "gaussianNoise",
  description: "x + N(0, stddev²) while training; x at inference",
  configure(config) {
    const r = new ConfigReader("gaussianNoise", config, ["stddev", "inputShape"]);
    const stddev = r.number("stddev", 0.1, (v) => Number.isFinite(v) && v >= 0, "a finite number >= 0");
    const inputShape = r.shape("inputShape");
    return { stddev, ...(inputShape ? { inputShape } : {}) };
  },
  build(config, inputShape) {
    return {
      outputShape: inputShape,
      call: (x, ctx) => {
        if (!ctx.training || config.stddev === 0) return x;
        const noise = normal(x.shape, { seed: ctx.nextSeed() });
        const y = fused("gaussianNoise", ADD_SCALED_NOISE, [x, noise], [config.stddev]);
        // the noise has no gradient; it is needed after this call only while one is being recorded
        return releaseTemporaries(y, noise);
      },
    };
  },
});

/** The family: `use(extraLayers)`. */
export const extraLayers = defineLayerFamily({
  name: "layers-extra",
  package: PACKAGE,
  version: VERSION,
  layers: [residualDense, gaussianNoise],
});
