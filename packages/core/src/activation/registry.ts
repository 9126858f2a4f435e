import { sharedBrand, sharedState } from "../process-state.js";
import { ArgumentError, RegistryError, fmtValue } from "../errors.js";
import { Registry, type RegisterOptions } from "../registry/registry.js";
import { type MemberIdentity, fillMemberIdentity } from "../registry/member-identity.js";
import { ACTIVATION_PACKAGES } from "@neurite/catalog";
import { didYouMean } from "../validation/suggest.js";
import { type Expr, mapExpr } from "../expr/expr.js";
import { parseFormula } from "../expr/parse.js";
import { checkDeclaration, checkParamValue } from "./declaration.js";
import { linear } from "./linear.js";
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

/** Registration's check: the whole declaration, as data (see declaration.ts); a failure registers nothing. */
function checkPlugin(p: ActivationPlugin): void {
  checkDeclaration(p);
}

/**
 * The activation registry (`activations.get("elu")`). Register with `use(...)` or `activations.register(...)`.
 * It starts with the core's identity, `linear` (the Dense default), as its documented default: created with
 * the registry, not registered by importing the package.
 */
export const activations = sharedState("activations", () => {
  const registry = new Registry<ActivationPlugin>("activation", ACTIVATION_PACKAGES, checkPlugin);
  registry.register(linear);
  // the flag by which earlier core copies registered their built-ins once: set, so none of them adds its own again
  sharedState("builtins-registered", () => true);
  return registry;
});


/**
 * A declaration as its author writes it: the identity (`family`, `package`, `version`) is required of a
 * standalone plugin and left out by a family's member, which gets it from {@link defineFamily}; a plugin that
 * reaches registration without it is refused, naming the missing field.
 */
type Declared<A extends ActivationPlugin, Derived extends string> = Omit<A, "kind" | MemberIdentity | Derived> & Partial<Pick<A, MemberIdentity>>;

/**
 * Identity for declaring an elementwise activation with its parameter types inferred. A family's member states
 * only what is its own (name, params, formula, …): {@link defineFamily} fills `family`, `package` and `version`.
 */
export function defineActivation<P extends ActivationParams>(plugin: Declared<ElementwiseActivation<P>, "type">): ElementwiseActivation<P>;
/**
 * An elementwise activation whose formula is text in {@link parseFormula}'s syntax, over `x` and the numeric
 * parameters: `formula: "x * sigmoid(1.702 * x)"`. It gets everything a builder formula gets (fused kernels,
 * the derived derivative, saving by name, the checks); the text is kept as `source`.
 */
export function defineActivation<P extends ActivationParams>(plugin: Declared<ElementwiseActivation<P>, "type" | "formula" | "source"> & { formula: string }): ElementwiseActivation<P>;
export function defineActivation<P extends ActivationParams>(plugin: Declared<AxisActivation<P>, never> & { type: "axis" }): AxisActivation<P>;
export function defineActivation(plugin: object): ActivationPlugin {
  const text = (plugin as { formula?: unknown }).formula;
  if (typeof text !== "string") return { kind: "activation", type: "elementwise", ...plugin } as ActivationPlugin;
  const specs = (plugin as { params?: unknown }).params;
  // string and boolean parameters select variants and have no place in arithmetic: only numbers are in scope
  const numeric = specs && typeof specs === "object"
    ? Object.entries(specs as Record<string, { default?: unknown }>).filter(([, s]) => typeof s?.default === "number").map(([k]) => k)
    : [];
  const tree = parseFormula(text, { params: numeric });
  const formula = (x: Expr, params: Readonly<Record<string, unknown>>): Expr =>
    mapExpr(tree, (e) => (e.node.kind === "input" ? x : e.node.kind === "param" ? (params[e.node.name] as Expr) : undefined));
  return { kind: "activation", type: "elementwise", ...plugin, source: text, formula } as ActivationPlugin;
}

/**
 * Groups activations into a family that registers (atomically) with one `use(family)`, and gives each member the
 * family's identity: a member that leaves out `family`, `package` or `version` gets the family's name, package
 * and version, written into the member itself, so the activation a package exports alone (`relu`) saves with
 * them too. A member that states another package or version is refused with a {@link RegistryError} naming
 * both (a refusal changes no member); a `family` it states is its own label and is kept.
 */
export function defineFamily(family: Omit<ActivationFamily, "kind">): ActivationFamily {
  fillMemberIdentity("activation", family, family.activations, ["family", "package", "version"]);
  return { kind: "activation-family", ...family };
}

/** Registers activations or whole families; all or nothing. */
export function registerActivations(items: readonly (ActivationPlugin | ActivationFamily)[], options?: RegisterOptions): void {
  activations.register(items.flatMap((i) => (i.kind === "activation-family" ? familyActivations(i) : [i])), options);
}

/** The members of a family, checked to be a list (the members themselves are checked as they register). */
export function familyActivations(family: ActivationFamily): readonly ActivationPlugin[] {
  const d = Reflect.getOwnPropertyDescriptor(family, "activations");
  const list: unknown = d && "value" in d ? d.value : undefined;
  if (!Array.isArray(list)) {
    throw new RegistryError(`activation family ${fmtValue(family.name)}: activations must be an array of activations (a data property), got ${fmtValue(list)}; build it with defineFamily`);
  }
  return [...(list as ActivationPlugin[])];
}

function checkValue(act: string, key: string, value: unknown, spec: ParamSpec): void {
  checkParamValue(act, key, value, spec);
}

/** Fills defaults and validates given parameters against a plugin's declarations. */
export function resolveParams<P extends ActivationParams>(plugin: ActivationPlugin<P>, given: Record<string, unknown> = {}): P {
  const specs = plugin.params as Record<string, ParamSpec>;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new ArgumentError(`activation "${plugin.name}": parameters must be an object such as { alpha: 0.2 }, got ${fmtValue(given)}`);
  }
  // own keys only, on both sides: "constructor" or "toString" is an unknown parameter, not an inherited one
  for (const k of Object.keys(given)) {
    if (k === "name") continue;
    if (!Object.hasOwn(specs, k)) {
      const known = Object.keys(specs);
      throw new ArgumentError(`activation "${plugin.name}" has no parameter ${JSON.stringify(k)}${didYouMean(k, known)} (${known.length ? `its parameters: ${known.join(", ")}` : "it takes no parameters"})`);
    }
  }
  const out: ActivationParams = {};
  for (const [k, spec] of Object.entries(specs)) {
    // only undefined means "the default": null (what JSON makes of NaN) is a value, and refused
    const own = Object.hasOwn(given, k) ? given[k] : undefined;
    const v = own === undefined ? spec.default : own;
    checkValue(plugin.name, k, v, spec);
    out[k] = v as never;
  }
  plugin.validate?.(out as P);
  return out as P;
}

/** Bound activations made by {@link bindActivation}: checked, frozen, and so trusted as they are. */
const boundActivations = sharedBrand("bound-activations");

/** Binds parameters to a plugin (whose declaration is checked the first time, as registration does). */
export function bindActivation<P extends ActivationParams>(plugin: ActivationPlugin<P>, params: Record<string, unknown> = {}): BoundActivation<P> {
  checkDeclaration(plugin);
  const bound: BoundActivation<P> = Object.freeze({ kind: "bound-activation", plugin, params: Object.freeze(resolveParams(plugin, params)) });
  boundActivations.add(bound);
  return bound;
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
  // one not made by bindActivation (a copy, or an object from a file) is bound again: its plugin and values checked
  if (spec.kind === "bound-activation") return boundActivations.has(spec) ? (spec as BoundActivation) : bindActivation((spec as BoundActivation).plugin, { ...(spec as BoundActivation).params });
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

/**
 * Rebuilds an activation from a model file's record. The record is data: a plain object with exactly
 * `package`, `name`, `version` (strings) and `params` (a flat record of numbers, strings and booleans, each
 * declared by the plugin); the plugin always comes from the registry, never from the record. An unregistered
 * one names the package to install. Comparing `version` with the registered plugin's is the loader's job.
 */
export function deserializeActivation(s: unknown): BoundActivation {
  const bad = (what: string): never => {
    throw new ArgumentError(`serialized activation ${what}; expected { package, name, version, params } as saveModel writes it, got ${fmtValue(s)}`);
  };
  if (!isRecord(s)) return bad("must be an object");
  const keys = Object.keys(s).sort().join(",");
  if (keys !== "name,package,params,version") bad(`has the keys [${Object.keys(s).join(", ")}]`);
  for (const k of ["package", "name", "version"] as const) if (typeof s[k] !== "string") bad(`needs a string ${k}`);
  const params = s.params;
  if (!isRecord(params)) return bad("needs params as an object");
  for (const v of Object.values(params)) if (!["number", "string", "boolean"].includes(typeof v)) bad("params must be numbers, strings or booleans");
  const name = s.name as string;
  if (!activations.has(name)) throw new RegistryError(activations.unknownMessage(name, s.package as string));
  const plugin = activations.get(name);
  for (const k of Object.keys(params)) {
    // own keys only: "constructor" or "toString" must not match the prototype of the declarations
    if (!Object.prototype.hasOwnProperty.call(plugin.params, k)) {
      const known = Object.keys(plugin.params);
      throw new ArgumentError(`the file sets parameter "${k}" of activation "${name}", which ${plugin.package}@${plugin.version} does not declare (${known.length ? `its parameters: ${known.join(", ")}` : "it takes no parameters"})`);
    }
  }
  return bindActivation(plugin, params);
}

/** A plain object (what JSON.parse makes), not an array, class instance or function. */
function isRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
