import { LAYER_PACKAGES } from "@neurite/catalog";
import { sharedState } from "../process-state.js";
import { RegistryError, fmtValue } from "../errors.js";
import { Registry } from "../registry/registry.js";
import { coreLayers } from "./builtin/index.js";
import type { LayerPlugin } from "./contract.js";

function checkPlugin(p: LayerPlugin): void {
  if (p.kind !== "layer" || typeof p.configure !== "function" || typeof p.build !== "function") {
    throw new RegistryError(`"${p.name}" is not a layer plugin: it needs kind "layer", configure() and build(); build it with defineLayer`);
  }
  for (const key of ["package", "version"] as const) {
    const value: unknown = p[key];
    if (typeof value !== "string" || value.length === 0) {
      throw new RegistryError(`layer "${p.name}": ${key} must be a non-empty string, got ${fmtValue(value)}; state it in defineLayer, or define the layer in a family with defineLayerFamily, which fills it`);
    }
  }
}

/**
 * The layer registry. Register more with `use(...)`.
 *
 * It starts with the core's own family ({@link coreLayers}: dense, activation, dropout, flatten,
 * layerNormalization) as its documented default: created with the registry, not registered by importing the
 * package, so existing model code keeps working without a `use(coreLayers)` call. The registry is shared by
 * every copy of the core in the process, and the first copy to create it supplies the built-ins.
 */
export const layers = sharedState("layers", () => {
  // the catalog names the package that provides a layer outside the core, for "install it" messages
  const registry = new Registry<LayerPlugin>("layer", LAYER_PACKAGES, checkPlugin);
  registry.register(coreLayers.layers);
  // the flag by which earlier core copies registered their built-ins once: set, so none of them adds its own again
  sharedState("builtins-registered", () => true);
  return registry;
});

export { ConfigReader, defineLayer, defineLayerFamily } from "./define.js";
