import { applyActivation, trainableParams } from "../../activation/apply.js";
import type { BoundActivation } from "../../activation/contract.js";
import { resolveActivation } from "../../activation/registry.js";
import { ConfigReader, defineLayer } from "../define.js";
import type { Variable } from "../../tensor/variable.js";

export interface ActivationLayerConfig {
  readonly activation: BoundActivation;
  readonly inputShape?: readonly number[];
}

/** Applies an activation on its own (PReLU's slope becomes this layer's weight). */
export const activationLayer = defineLayer<ActivationLayerConfig>({
  name: "activation",
  description: "a = f(x) for an activation plugin",
  configure(config) {
    const r = new ConfigReader("activation", config, ["activation", "inputShape"]);
    const inputShape = r.shape("inputShape");
    return { activation: resolveActivation((r.raw("activation") as never) ?? "linear"), ...(inputShape ? { inputShape } : {}) };
  },
  build(config, inputShape, ctx) {
    const act = config.activation;
    const weights: Record<string, Variable> = {};
    for (const k of trainableParams(act.plugin)) {
      const channels = inputShape[inputShape.length - 1] ?? 1;
      weights[k] = ctx.addWeight(k, act.plugin.params[k]!.perChannel ? [channels] : [1], { name: "constant", value: act.params[k] as number });
    }
    return { outputShape: inputShape, call: (x) => applyActivation(x, act, weights) };
  },
});

/** This layer's entry in {@link LayerRegistry} (gathered in ../spec.ts), declared beside its implementation. */
export interface ActivationLayerEntry {
  activation: ActivationLayerConfig;
}
