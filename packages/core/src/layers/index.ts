import { defineLayerFamily } from "../layer/registry.js";
import { activationLayer } from "./activation.js";
import { dense } from "./dense.js";
import { dropout } from "./dropout.js";
import { flatten } from "./flatten.js";
import { layerNormalization } from "./layer-normalization.js";

export { activationLayer, dense, dropout, flatten, layerNormalization };
export type { DenseConfig } from "./dense.js";
export type { ActivationLayerConfig } from "./activation.js";
export type { DropoutConfig } from "./dropout.js";
export type { LayerNormalizationConfig } from "./layer-normalization.js";

/** The layers built into the core; registered in the core's layer registry from the start. */
export const builtinLayers = defineLayerFamily({
  name: "core-layers",
  package: "@neurite/core",
  version: "0.1.0",
  layers: [dense, activationLayer, dropout, flatten, layerNormalization],
});
