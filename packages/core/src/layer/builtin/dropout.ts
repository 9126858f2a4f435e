import { releaseTemporaries } from "../../autograd/record.js";
import { binary, input, where } from "../../expr/expr.js";
import { ConfigReader, defineLayer } from "../define.js";
import { uniform } from "../../ops/create.js";
import { fused } from "../../ops/fused.js";

export interface DropoutConfig {
  /** Fraction of units zeroed while training, in [0, 1). */
  readonly rate: number;
  readonly inputShape?: readonly number[];
}

/** Inverted dropout: while training, zeroes each unit with probability `rate` and scales the rest by 1/(1 − rate); the identity at inference. Seeded by the model. */
export const dropout = defineLayer<DropoutConfig>({
  name: "dropout",
  description: "zeroes units with probability rate while training (scaled by 1/(1 − rate)); identity at inference",
  configure(config) {
    const r = new ConfigReader("dropout", config, ["rate", "inputShape"]);
    const inputShape = r.shape("inputShape");
    return { rate: r.number("rate", 0.5, (v) => v >= 0 && v < 1, "in [0, 1)"), ...(inputShape ? { inputShape } : {}) };
  },
  build(config, inputShape) {
    const keep = 1 - config.rate;
    // one fused pass: the uniform draw is an input without gradient
    const program = where(binary("ge", input(1), config.rate), input(0).mul(1 / keep), 0);
    return {
      outputShape: inputShape,
      call: (x, ctx) => {
        if (!ctx.training || config.rate === 0) return x;
        const u = uniform(x.shape, { seed: ctx.nextSeed() });
        return releaseTemporaries(fused("dropout", program, [x, u]), u);
      },
    };
  },
});

/** This layer's entry in {@link LayerRegistry} (gathered in ../spec.ts), declared beside its implementation. */
export interface DropoutEntry {
  dropout: DropoutConfig;
}
