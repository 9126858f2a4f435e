import { defineLayerFamily } from "../define.js";
import { activationLayer } from "./activation.js";
import { dense } from "./dense.js";
import { dropout } from "./dropout.js";
import { flatten } from "./flatten.js";
import { layerNormalization } from "./layer-normalization.js";
import { CORE_VERSION } from "../../process-state.js";

export { activationLayer, dense, dropout, flatten, layerNormalization };
export { denseActivation, type DenseConfig } from "./dense.js";
export type { ActivationLayerConfig } from "./activation.js";
export type { DropoutConfig } from "./dropout.js";
export type { LayerNormalizationConfig } from "./layer-normalization.js";

/**
 * The layers built into the core. The layer registry starts with them (its documented default), so they need
 * no `use(...)`; a layer package outside core registers the same way as this family would.
 */
export const coreLayers = defineLayerFamily({
  name: "core-layers",
  package: "@neurite/core",
  version: CORE_VERSION,
  layers: [dense, activationLayer, dropout, flatten, layerNormalization],
});

/** @deprecated the former name of {@link coreLayers}. */
export const builtinLayers = coreLayers;
