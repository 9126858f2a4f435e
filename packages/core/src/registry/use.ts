import type { ActivationFamily, ActivationPlugin } from "../activation/contract.js";
import { activations, familyActivations } from "../activation/registry.js";
import type { BackendPlugin } from "../backend/contract.js";
import { backends } from "../backend/instances.js";
import { RegistryError } from "../errors.js";
import type { LayerFamily, LayerPlugin } from "../layer/contract.js";
import { layers } from "../layer/registry.js";
import { boolean, describeValue, readOptions } from "../validation/options.js";
import type { RegisterOptions } from "./registry.js";

/** Anything `use` accepts: a backend, an activation or a family of them, a layer or a family of layers. */
export type Plugin = BackendPlugin | ActivationPlugin | ActivationFamily | LayerPlugin | LayerFamily;

const PLUGIN_KINDS = ["backend", "activation", "activation-family", "layer", "layer-family"];

/** Whether an argument of `use` is a plugin (it has a `kind`) rather than the options object. */
function hasKind(arg: object): boolean {
  return "kind" in arg;
}

/** The members of a family, refusing a family whose list is not an array of objects. */
function members<T>(family: { kind: string; name?: unknown }, list: unknown, field: string): T[] {
  if (!Array.isArray(list)) {
    throw new RegistryError(`use: ${family.kind} ${describeValue(family.name)}: ${field} must be an array of plugins, got ${describeValue(list)}`);
  }
  return list as T[];
}

/**
 * Registers plugins of any kind, explicitly (nothing registers itself on import). All or nothing: if one
 * plugin is invalid or a duplicate, none is registered. A last argument without `kind` is the options
 * (`{ replace: true }`).
 *
 * @example
 * use(cpuBackend, reluFamily, sigmoidFamily);
 * await setBackend("cpu");
 */
export function use(...plugins: (Plugin | RegisterOptions)[]): void {
  let options: RegisterOptions = {};
  let sawOptions = false;
  const items: Plugin[] = [];
  plugins.forEach((p: unknown, i) => {
    const where = `use: argument ${i + 1}`;
    if (Array.isArray(p)) throw new RegistryError(`${where} is an array; pass plugins as separate arguments: use(...plugins)`);
    if (p === null || typeof p !== "object") {
      throw new RegistryError(`${where} is not a Neurite plugin, got ${describeValue(p)}; pass plugins such as cpuBackend or reluFamily (imported from their packages)`);
    }
    if (hasKind(p)) {
      const kind = (p as { kind: unknown }).kind;
      if (typeof kind !== "string" || !PLUGIN_KINDS.includes(kind)) {
        throw new RegistryError(`use: not a Neurite plugin (kind ${describeValue(kind)}); pass plugins such as cpuBackend or reluFamily, built with defineActivation / defineLayer`);
      }
      items.push(p as Plugin);
      return;
    }
    if (sawOptions) throw new RegistryError(`${where} is a second options object; pass at most one ({ replace: true })`);
    sawOptions = true;
    options = readOptions("use", p, { replace: boolean });
  });
  const byKind = { backend: [] as BackendPlugin[], activation: [] as ActivationPlugin[], layer: [] as LayerPlugin[] };
  for (const p of items) {
    switch (p.kind) {
      case "backend": byKind.backend.push(p); break;
      case "activation": byKind.activation.push(p); break;
      case "activation-family": byKind.activation.push(...familyActivations(p)); break;
      case "layer": byKind.layer.push(p); break;
      case "layer-family": byKind.layer.push(...members<LayerPlugin>(p, p.layers, "layers")); break;
    }
  }
  for (const p of [...byKind.backend, ...byKind.activation, ...byKind.layer] as unknown[]) {
    if (p === null || typeof p !== "object") throw new RegistryError(`use: a family lists ${describeValue(p)}, which is not a plugin`);
  }
  const saved = [backends.registry.snapshot(), activations.snapshot(), layers.snapshot()] as const;
  try {
    backends.registry.register(byKind.backend, options);
    activations.register(byKind.activation, options);
    layers.register(byKind.layer, options);
  } catch (e) {
    backends.registry.restore(saved[0]);
    activations.restore(saved[1]);
    layers.restore(saved[2]);
    throw e;
  }
}
