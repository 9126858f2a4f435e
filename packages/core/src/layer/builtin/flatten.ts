import { ConfigReader, defineLayer } from "../define.js";
import { reshape } from "../../ops/shape-ops.js";

/** Flatten's configuration: only the input shape, when it is the first layer. */
export interface FlattenConfig {
  readonly inputShape?: readonly number[];
}

/** Flattens every axis but the batch axis. */
export const flatten = defineLayer<FlattenConfig>({
  name: "flatten",
  description: "reshapes [batch, ...] to [batch, product of the rest]",
  configure(config) {
    // inputShape is kept: a model that starts with flatten is built from it, like one that starts with dense
    const inputShape = new ConfigReader("flatten", config, ["inputShape"]).shape("inputShape");
    return inputShape ? { inputShape } : {};
  },
  build(_config, inputShape) {
    const features = inputShape.reduce((a, b) => a * b, 1);
    return { outputShape: [features], call: (x) => reshape(x, [x.shape[0] ?? 1, features]) };
  },
});

/** This layer's entry in {@link LayerRegistry} (gathered in ../spec.ts), declared beside its implementation. */
export interface FlattenEntry {
  flatten: FlattenConfig;
}
