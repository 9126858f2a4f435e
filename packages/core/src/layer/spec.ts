/**
 * What a model definition names: the typed registry of layer names and configs, and the `{ type, ...config }`
 * spec built from it. Kept apart from the contract (./contract.ts) so that the contract names no layer; this
 * module gathers the built-in family's entries, each declared beside its layer.
 */
import type { ActivationSpec, BoundActivation } from "../activation/contract.js";
import type { ActivationLayerEntry } from "./builtin/activation.js";
import type { DenseEntry } from "./builtin/dense.js";
import type { DropoutEntry } from "./builtin/dropout.js";
import type { FlattenEntry } from "./builtin/flatten.js";
import type { LayerNormalizationEntry } from "./builtin/layer-normalization.js";
import type { LayerPlugin } from "./contract.js";

/**
 * Names of registered layers and their configs, extended by declaration merging like
 * {@link ActivationRegistry}, so `{ type: "dense", units: 8 }` type-checks. A layer package adds its own:
 *
 * @example
 * declare module "@neurite/core" {
 *   interface LayerRegistry { residualDense: ResidualDenseConfig }
 * }
 */
export interface LayerRegistry extends DenseEntry, ActivationLayerEntry, DropoutEntry, FlattenEntry, LayerNormalizationEntry {}

export type LayerName = Extract<keyof LayerRegistry, string>;

/** A layer in a model definition: `{ type, ...config }` with a registered name or a plugin object. */
export type LayerSpec =
  | { [K in LayerName]: { readonly type: K } & { readonly [Q in keyof LayerRegistry[K]]?: LayerConfigInput<LayerRegistry[K][Q]> } }[LayerName]
  | ({ readonly type: LayerPlugin } & Readonly<Record<string, unknown>>);

/** Config fields accept what the user writes (activation specs as names), not only the configured form. */
export type LayerConfigInput<V> = V extends BoundActivation ? ActivationSpec : V;
