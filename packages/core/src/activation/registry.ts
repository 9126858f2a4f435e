import { ArgumentError, RegistryError, fmtValue } from "../errors.js";
import { Registry, type RegisterOptions } from "../registry/registry.js";
import { ACTIVATION_PACKAGES } from "@neurite/catalog";
import type {
  ActivationFamily,
  ActivationMeta,
  ActivationParams,
  ActivationPlugin,
  AxisActivation,
  BoundActivation,
  ElementwiseActivation,
  ParamSpec,
  SerializedActivation,
} from "./contract.js";

function checkPlugin(p: ActivationPlugin): void {
  if (p.kind !== "activation" || (p.type !== "elementwise" && p.type !== "axis")) {
    throw new RegistryError(`"${p.name}" is not an activation plugin (kind ${fmtValue(p.kind)}, type ${fmtValue((p as { type?: unknown }).type)}); build it with defineActivation`);
  }
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(p.name)) throw new RegistryError(`activation name ${fmtValue(p.name)} must be an identifier such as "leakyRelu"`);
  for (const [k, spec] of Object.entries(p.params)) checkValue(p.name, k, spec.default, spec); // defaults must be valid
  if (p.type === "elementwise" && typeof p.formula !== "function") throw new RegistryError(`activation "${p.name}" has no formula(x, params)`);
  if (p.type === "axis" && (typeof p.forward !== "function" || typeof p.backward !== "function")) {
    throw new RegistryError(`axis activation "${p.name}" needs forward and backward`);
  }
}

/** The activation registry (`activations.get("elu")`). Register with `use(...)` or `activations.register(...)`. */
export const activations = new Registry<ActivationPlugin>("activation", ACTIVATION_PACKAGES, checkPlugin);

/** Identity for declaring an elementwise activation with its parameter types inferred. */
export function defineActivation<P extends ActivationParams>(plugin: Omit<ElementwiseActivation<P>, "kind" | "type">): ElementwiseActivation<P>;
export function defineActivation<P extends ActivationParams>(plugin: Omit<AxisActivation<P>, "kind"> & { type: "axis" }): AxisActivation<P>;
export function defineActivation(plugin: object): ActivationPlugin {
  return { kind: "activation", type: "elementwise", ...plugin } as ActivationPlugin;
}

/** Groups activations into a family that registers (atomically) with one `use(family)`. */
export function defineFamily(family: Omit<ActivationFamily, "kind">): ActivationFamily {
  return { kind: "activation-family", ...family };
}

/** Registers activations or whole families; all or nothing. */
export function registerActivations(items: readonly (ActivationPlugin | ActivationFamily)[], options?: RegisterOptions): void {
  activations.register(items.flatMap((i) => (i.kind === "activation-family" ? i.activations : [i])), options);
}

function checkValue(act: string, key: string, value: unknown, spec: ParamSpec): void {
  const bad = (expected: string): never => {
    throw new ArgumentError(`activation "${act}": parameter ${key} must be ${expected}, got ${fmtValue(value)}`);
  };
  const d = spec.default;
  if (typeof value !== typeof d) bad(`a ${typeof d}`);
  if (spec.choices && !spec.choices.includes(value as never)) bad(`one of ${spec.choices.map(fmtValue).join(", ")}`);
  if (typeof value === "number") {
    if (Number.isNaN(value)) bad("a number (not NaN)");
    if (spec.integer && !Number.isInteger(value)) bad("an integer");
    const lo = spec.min ?? -Infinity;
    const hi = spec.max ?? Infinity;
    const range = `${spec.exclusiveMin ? "(" : "["}${lo}, ${hi}${spec.exclusiveMax ? ")" : "]"}`;
    if (value < lo || (spec.exclusiveMin && value === lo) || value > hi || (spec.exclusiveMax && value === hi)) bad(`in ${range}`);
  }
}

/** Fills defaults and validates given parameters against a plugin's declarations. */
export function resolveParams<P extends ActivationParams>(plugin: ActivationPlugin<P>, given: Record<string, unknown> = {}): P {
  const specs = plugin.params as Record<string, ParamSpec>;
  for (const k of Object.keys(given)) {
    if (k === "name") continue;
    if (!(k in specs)) {
      const known = Object.keys(specs);
      throw new ArgumentError(`activation "${plugin.name}" has no parameter "${k}" (${known.length ? `its parameters: ${known.join(", ")}` : "it takes no parameters"})`);
    }
  }
  const out: ActivationParams = {};
  for (const [k, spec] of Object.entries(specs)) {
    const v = given[k] ?? spec.default;
    checkValue(plugin.name, k, v, spec);
    out[k] = v as never;
  }
  plugin.validate?.(out as P);
  return out as P;
}

/** Binds parameters to a plugin. */
export function bindActivation<P extends ActivationParams>(plugin: ActivationPlugin<P>, params: Record<string, unknown> = {}): BoundActivation<P> {
  return { kind: "bound-activation", plugin, params: Object.freeze(resolveParams(plugin, params)) };
}

/** Any activation spec, typed loosely: what files and untyped callers pass ({@link ActivationSpec} is the typed form). */
export type ActivationSpecLoose = ActivationPlugin | BoundActivation | string | { readonly name: string; readonly [param: string]: unknown };

/**
 * Resolves any activation spec (an installed name, `{ name, ...params }`, a plugin or a bound activation)
 * to a bound activation, with clear errors for unknown names and invalid parameters.
 */
export function resolveActivation(spec: ActivationSpecLoose): BoundActivation {
  if (typeof spec === "string") return bindActivation(activations.get(spec));
  if (!spec || typeof spec !== "object") throw new ArgumentError(`activation must be a name, { name, ...params }, or a plugin, got ${fmtValue(spec)}`);
  if (spec.kind === "bound-activation") return spec as BoundActivation;
  if (spec.kind === "activation") return bindActivation(spec as ActivationPlugin);
  const { name, ...params } = spec as { name: string } & Record<string, unknown>;
  if (typeof name !== "string") throw new ArgumentError(`activation config needs a name, got ${fmtValue(spec)}`);
  return bindActivation(activations.get(name), params);
}

/** The metadata of a bound activation. */
export function activationMeta(act: BoundActivation): ActivationMeta {
  const m = act.plugin.meta;
  return typeof m === "function" ? m(act.params) : m;
}

/** What a model file stores for an activation: package, name, version and every parameter. */
export function serializeActivation(act: BoundActivation): SerializedActivation {
  const { plugin } = act;
  return { package: plugin.package, name: plugin.name, version: plugin.version, params: { ...act.params } };
}

/** Rebuilds an activation from a model file; an unregistered one names the package to install. */
export function deserializeActivation(s: SerializedActivation): BoundActivation {
  if (!s || typeof s.name !== "string") throw new ArgumentError(`serialized activation must have a name, got ${fmtValue(s)}`);
  if (!activations.has(s.name)) throw new RegistryError(activations.unknownMessage(s.name, s.package));
  return bindActivation(activations.get(s.name), s.params ?? {});
}
