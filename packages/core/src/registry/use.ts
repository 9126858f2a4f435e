import type { ActivationFamily, ActivationPlugin } from "../activation/contract.js";
import { activations } from "../activation/registry.js";
import type { BackendPlugin } from "../backend/contract.js";
import { fmtValue, RegistryError } from "../errors.js";
import type { LayerFamily, LayerPlugin } from "../layer/contract.js";
import { layers } from "../layer/registry.js";
import { engine } from "../tensor/engine.js";
import type { RegisterOptions } from "./registry.js";

/** Anything `use` accepts: a backend, an activation or a family of them, a layer or a family of layers. */
export type Plugin = BackendPlugin | ActivationPlugin | ActivationFamily | LayerPlugin | LayerFamily;

/**
 * Registers plugins of any kind, explicitly (nothing registers itself on import). All or nothing: if one
 * plugin is invalid or a duplicate, none is registered.
 *
 * @example
 * use(cpuBackend, reluFamily, sigmoidFamily);
 * await setBackend("cpu");
 */
export function use(...plugins: (Plugin | RegisterOptions)[]): void {
  const options = plugins.find((p): p is RegisterOptions => !("kind" in p)) ?? {};
  const items = plugins.filter((p): p is Plugin => "kind" in p);
  const byKind = { backend: [] as BackendPlugin[], activation: [] as ActivationPlugin[], layer: [] as LayerPlugin[] };
  for (const p of items) {
    switch (p.kind) {
      case "backend": byKind.backend.push(p); break;
      case "activation": byKind.activation.push(p); break;
      case "activation-family": byKind.activation.push(...p.activations); break;
      case "layer": byKind.layer.push(p); break;
      case "layer-family": byKind.layer.push(...p.layers); break;
      default: throw new RegistryError(`use: not a Neurite plugin (kind ${fmtValue((p as { kind?: unknown }).kind)})`);
    }
  }
  const saved = [engine.backends.snapshot(), activations.snapshot(), layers.snapshot()] as const;
  try {
    engine.backends.register(byKind.backend, options);
    activations.register(byKind.activation, options);
    layers.register(byKind.layer, options);
  } catch (e) {
    engine.backends.restore(saved[0]);
    activations.restore(saved[1]);
    layers.restore(saved[2]);
    throw e;
  }
}
