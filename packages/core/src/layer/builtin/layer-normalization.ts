import { ConfigReader, defineLayer } from "../define.js";
import { constant, input, scalar } from "../../expr/expr.js";
import { add, mul, sub } from "../../ops/elementwise.js";
import { fused } from "../../ops/fused.js";
import { mean } from "../../ops/reduce.js";

// 1/sqrt(var + eps) in one pass; eps is a run-time scalar
const RSQRT = constant(1).div(input(0).add(scalar(0)).sqrt());

export interface LayerNormalizationConfig {
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Learn a shift β. */
  readonly center: boolean;
  /** Learn a scale γ. */
  readonly scale: boolean;
  readonly inputShape?: readonly number[];
}

/** Normalizes each sample over its last axis to mean 0 and variance 1 (biased variance, as PyTorch), then y = γ·x̂ + β. */
export const layerNormalization = defineLayer<LayerNormalizationConfig>({
  name: "layerNormalization",
  description: "y = γ·(x − mean)/sqrt(var + ε) + β over the last axis",
  configure(config) {
    const r = new ConfigReader("layerNormalization", config, ["epsilon", "center", "scale", "inputShape"]);
    const inputShape = r.shape("inputShape");
    return {
      epsilon: r.number("epsilon", 1e-5, (v) => v > 0 && Number.isFinite(v), "a positive number"),
      center: r.bool("center", true),
      scale: r.bool("scale", true),
      ...(inputShape ? { inputShape } : {}),
    };
  },
  build(config, inputShape, ctx) {
    const features = inputShape[inputShape.length - 1] ?? 1;
    const gamma = config.scale ? ctx.addWeight("gamma", [features], "ones") : undefined;
    const beta = config.center ? ctx.addWeight("beta", [features], "zeros") : undefined;
    return {
      outputShape: inputShape,
      call: (x) => {
        const mu = mean(x, -1, true);
        const centered = sub(x, mu);
        const variance = mean(mul(centered, centered), -1, true);
        let y = mul(centered, fused("rsqrt", RSQRT, [variance], [config.epsilon]));
        if (gamma) y = mul(y, gamma);
        if (beta) y = add(y, beta);
        return y;
      },
    };
  },
});

/** This layer's entry in {@link LayerRegistry} (gathered in ../spec.ts), declared beside its implementation. */
export interface LayerNormalizationEntry {
  layerNormalization: LayerNormalizationConfig;
}
