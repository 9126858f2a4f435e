import type { Backend, DataId } from "../backend/contract.js";
import type { Expr } from "../expr/expr.js";
import type { PluginIdentity } from "../registry/registry.js";
import type { Tensor } from "../tensor/tensor.js";

/** A parameter value: numbers for coefficients, strings and booleans for variants (gelu's `approximate`). */
export type ParamValue = number | string | boolean;

/** Resolved parameters of an activation: every parameter has a value. */
export type ActivationParams = Record<string, ParamValue>;

/** How one parameter is declared: its default, its valid values, and whether it is learned. */
export interface ParamSpec<V extends ParamValue = ParamValue> {
  readonly default: V;
  readonly description?: string;
  /** Numeric bounds, inclusive unless `exclusiveMin` / `exclusiveMax`. */
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
  readonly exclusiveMax?: boolean;
  readonly integer?: boolean;
  /** The only values allowed. */
  readonly choices?: readonly V[];
  /**
   * A trainable parameter becomes a weight of the layer that uses the activation (PReLU's slope),
   * initialised to the parameter's value; its gradient is derived like the input's.
   */
  readonly trainable?: boolean;
  /** For trainable parameters: one value per channel of the last axis instead of one shared value. */
  readonly perChannel?: boolean;
}

/** The declarations of all parameters of P. */
export type ParamSpecs<P extends ActivationParams> = { readonly [K in keyof P]: ParamSpec<P[K]> };

/** Parameters as a formula sees them: numbers become expressions (one compiled kernel serves all values). */
export type ParamExprs<P extends ActivationParams> = { readonly [K in keyof P]: P[K] extends number ? Expr : P[K] };

/** Facts about an activation used by docs, plots and tests. */
export interface ActivationMeta {
  /** Closed hull of the output range for finite input, e.g. [0, 1] for sigmoid. */
  readonly range: readonly [number, number];
  /** Non-decreasing over the reals. */
  readonly monotonic: boolean;
  /** Differentiable at 0 (no kink there). */
  readonly smoothAtZero: boolean;
}

/** A hand-written kernel for one backend: an optimisation the core uses when the backend matches. */
export interface ActivationKernel {
  forward(backend: Backend, args: { x: DataId; out: DataId; size: number; params: ActivationParams }): void;
  /** out = g · f'(x); where absent the declared derivative runs. */
  backward?(backend: Backend, args: { x: DataId; y: DataId; g: DataId; out: DataId; size: number; params: ActivationParams }): void;
}

/**
 * A function of an activation's parameters, declared through a method so that it is checked bivariantly: a
 * plugin typed with its own parameters (`{ alpha: number }`) stays assignable to `ActivationPlugin`.
 */
export type ParamsFunction<P, R> = { bivariant(params: P): R }["bivariant"];

interface ActivationBase<P extends ActivationParams> extends PluginIdentity {
  readonly kind: "activation";
  /** The family (and package) it belongs to: "relu", "sigmoid", … */
  readonly family: string;
  /** The formula in words, e.g. "x if x > 0, else alpha·(exp(x) − 1)". */
  readonly description: string;
  readonly params: ParamSpecs<P>;
  /** Metadata, possibly depending on the parameters (elu's range starts at −alpha). */
  readonly meta: ActivationMeta | ParamsFunction<P, ActivationMeta>;
  /** Cross-parameter validation beyond each {@link ParamSpec} (hardTanh: minVal < maxVal); throw ArgumentError. */
  readonly validate?: ParamsFunction<P, void>;
}

/**
 * An elementwise activation, declared once as an expression over the primitives every backend implements.
 * Every backend runs it as one fused kernel forward and one backward; the core derives the derivative.
 *
 * @example
 * const bentIdentity = defineActivation({
 *   name: "bentIdentity", family: "custom", package: "my-app", version: "1.0.0",
 *   description: "(sqrt(x² + 1) − 1)/2 + x",
 *   params: {},
 *   meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
 *   formula: (x) => x.square().add(1).sqrt().sub(1).div(2).add(x),
 * });
 */
export interface ElementwiseActivation<P extends ActivationParams = ActivationParams> extends ActivationBase<P> {
  readonly type: "elementwise";
  /** f(x). Written so the kink convention is right: `where(x.gt(0), x, 0)` gives f'(0) = 0. */
  formula(x: Expr, params: ParamExprs<P>): Expr;
  /**
   * f'(x), optionally in terms of y = f(x) (the `y` expression): give it where it is more stable or cheaper
   * than the derived one, e.g. sigmoid's y·(1 − y). Only for derivatives with respect to x.
   */
  derivative?(x: Expr, y: Expr, params: ParamExprs<P>): Expr;
  /** The formula as text, when it was given as a string (`parseFormula`'s syntax); for display and docs. */
  readonly source?: string;
  /** Hand-written kernels keyed by backend name. Never required. */
  readonly kernels?: Readonly<Record<string, ActivationKernel>>;
}

/**
 * An activation over an axis (softmax, log-softmax): a stable forward built from tensor ops, an explicit
 * backward, and a float64 reference over one slice for tests and plots.
 */
export interface AxisActivation<P extends ActivationParams = ActivationParams> extends ActivationBase<P> {
  readonly type: "axis";
  /** y = f(x) along `params.axis` (or the plugin's own axis parameter). */
  forward(x: Tensor, params: P): Tensor;
  /** The vector-Jacobian product: dx given g = dL/dy, y and x. */
  backward(g: Tensor, y: Tensor, x: Tensor, params: P): Tensor;
  /** float64 reference: f over one slice along the axis. */
  reference(slice: readonly number[], params: P): number[];
  /**
   * A declared capability: true when, with these parameters on a tensor of this rank, the activation is exactly
   * the softmax over the last axis. A layer ending in it may then hand a probability loss its input (the
   * logits), so cross-entropy is computed fused and exact from them. Absent: never.
   */
  crossEntropyFromLogits?(params: P, rank: number): boolean;
}

/** Any activation plugin. */
export type ActivationPlugin<P extends ActivationParams = ActivationParams> = ElementwiseActivation<P> | AxisActivation<P>;

/** A family: several activations shipped and registered together. */
export interface ActivationFamily extends PluginIdentity {
  readonly kind: "activation-family";
  readonly activations: readonly ActivationPlugin[];
}

/**
 * Names of registered activations and their parameters, filled in by each family package through
 * declaration merging, so that `activation: "elu"` type-checks (and autocompletes) only when it is installed:
 *
 * @example
 * declare module "@neurite/core" {
 *   interface ActivationRegistry { elu: { alpha: number } }
 * }
 */
export interface ActivationRegistry {
  /** The identity, built into the core. */
  linear: Record<string, never>;
}

/** The name of an installed activation. */
export type ActivationName = Extract<keyof ActivationRegistry, string>;

/** `{ name, ...params }` for an installed activation, every parameter optional. */
export type ActivationConfig = {
  [K in ActivationName]: { readonly name: K } & { readonly [Q in keyof ActivationRegistry[K]]?: ActivationRegistry[K][Q] };
}[ActivationName];

/** Everything that names an activation: an installed name, a config, a plugin object, or a bound activation. */
export type ActivationSpec = ActivationName | ActivationConfig | ActivationPlugin | BoundActivation;

/** An activation with every parameter resolved and validated: what layers hold and models save. */
export interface BoundActivation<P extends ActivationParams = ActivationParams> {
  readonly kind: "bound-activation";
  readonly plugin: ActivationPlugin<P>;
  readonly params: Readonly<P>;
}

/** How a model file records an activation: enough to find the plugin again and rebuild it exactly. */
export interface SerializedActivation {
  readonly package: string;
  readonly name: string;
  readonly version: string;
  readonly params: ActivationParams;
}

/** A parameter's type as users pass it: `defineActivation` infers a default of 1 as the literal type 1. */
type WidenParam<V> = V extends number ? number : V extends boolean ? boolean : V;

/**
 * The parameters of an activation plugin, for augmenting {@link ActivationRegistry}: `snake: ParamsOf<typeof snake>`.
 * Numbers and booleans are widened (`number`, `boolean`); a string parameter keeps the type inferred from its
 * default and `choices` (`"fast" | "exact"`).
 */
export type ParamsOf<A> = A extends ElementwiseActivation<infer P> | AxisActivation<infer P> ? { [K in keyof P]: WidenParam<P[K]> } : never;
