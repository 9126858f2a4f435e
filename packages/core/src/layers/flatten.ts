import { ConfigReader, defineLayer } from "../layer/registry.js";
import { reshape } from "../ops/shape-ops.js";

/** Flattens every axis but the batch axis. */
export const flatten = defineLayer<Record<string, never>>({
  name: "flatten",
  package: "@neurite/core",
  version: "0.1.0",
  description: "reshapes [batch, ...] to [batch, product of the rest]",
  configure(config) {
    new ConfigReader("flatten", config, ["inputShape"]);
    return {};
  },
  build(_config, inputShape) {
    const features = inputShape.reduce((a, b) => a * b, 1);
    return { outputShape: [features], call: (x) => reshape(x, [x.shape[0] ?? 1, features]) };
  },
});
