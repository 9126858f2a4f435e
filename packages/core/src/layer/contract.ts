import type { PluginIdentity } from "../registry/registry.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Variable } from "../tensor/variable.js";
import type { InitializerSpec } from "./initializers.js";

/** Creates a layer's weights while it is built. */
export interface BuildContext {
  /**
   * A new weight of the layer, initialised by `initializer` from the layer's seed. Names are local to the
   * layer ("kernel", "bias") and must be unique in it.
   */
  addWeight(name: string, shape: readonly number[], initializer: InitializerSpec, options?: { trainable?: boolean }): Variable;
}

/** Per-call information: training or inference, and seeds for layers that draw random numbers. */
export interface CallContext {
  readonly training: boolean;
  /** A fresh seed for this call, derived from the model's seed (dropout masks). */
  nextSeed(): number;
}

/** A built layer: its weights exist, its output shape is known. */
export interface LayerInstance {
  /** Output shape without the batch axis. */
  readonly outputShape: readonly number[];
  /** The forward pass, in tensor ops (autograd gives the backward). */
  call(x: Tensor, ctx: CallContext): Tensor;
  /**
   * For layers that end in a softmax: the output before it. Losses that take probabilities use it to
   * compute cross-entropy from logits (stable, and exact like PyTorch).
   */
  logits?(x: Tensor, ctx: CallContext): Tensor;
}

/**
 * The Layer plugin contract, alike the activation contract: a name, a config with defaults and validation,
 * weights created when it is built from its input shape, a forward in tensor ops, its output shape, and a
 * config that serializes.
 *
 * @example
 * const scale = defineLayer<{ factor: number }>({
 *   name: "scale", package: "my-app", version: "1.0.0", description: "multiplies by a learned scalar",
 *   configure: (c) => ({ factor: typeof c.factor === "number" ? c.factor : 1 }),
 *   build: (config, inputShape, ctx) => {
 *     const w = ctx.addWeight("factor", [1], { name: "constant", value: config.factor });
 *     return { outputShape: inputShape, call: (x) => x.mul(w) };
 *   },
 * });
 */
export interface LayerPlugin<C extends object = object> extends PluginIdentity {
  readonly kind: "layer";
  readonly description: string;
  /**
   * Fills defaults and validates a user config; returns the config with every field written out. Throws an
   * ArgumentError naming the field, the value and what was expected. Called again on load.
   */
  configure(config: Readonly<Record<string, unknown>>): C;
  /** Creates the layer's weights for an input shape (without the batch axis). */
  build(config: C, inputShape: readonly number[], ctx: BuildContext): LayerInstance;
}

/** Several layers registered together. */
export interface LayerFamily extends PluginIdentity {
  readonly kind: "layer-family";
  readonly layers: readonly LayerPlugin[];
}
