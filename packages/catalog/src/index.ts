/**
 * The directory of first-party Neurite plugins: which package provides each activation, backend and layer name.
 * Data only, importing nothing. `@neurite/core` reads it to name the package to install when a name is
 * unknown, so that the core itself never refers to a plugin; a new family is listed here, not in the core.
 *
 * @example
 * ```ts
 * import { ACTIVATION_PACKAGES } from "@neurite/catalog";
 * ACTIVATION_PACKAGES.elu; // "@neurite/activations-relu"
 * ```
 */

const SIGMOID = "@neurite/activations-sigmoid";
const RELU = "@neurite/activations-relu";
const SOFTMAX = "@neurite/activations-softmax";
const SMOOTH = "@neurite/activations-smooth";

/** Activation name → the package whose family provides it. */
export const ACTIVATION_PACKAGES: Readonly<Record<string, string>> = {
  sigmoid: SIGMOID, tanh: SIGMOID, hardSigmoid: SIGMOID, hardTanh: SIGMOID, softsign: SIGMOID, logSigmoid: SIGMOID,
  relu: RELU, relu6: RELU, leakyRelu: RELU, prelu: RELU, elu: RELU, selu: RELU, celu: RELU, hardSwish: RELU,
  softmax: SOFTMAX, logSoftmax: SOFTMAX,
  gelu: SMOOTH, silu: SMOOTH, swish: SMOOTH, mish: SMOOTH, softplus: SMOOTH,
};

/** Backend name → the package that provides it. */
export const BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  cpu: "@neurite/backend-cpu",
  wasm: "@neurite/backend-wasm",
};

const CONV = "@neurite/layers-conv";

/** Layer name → the package whose layer family provides it (layers outside the core). */
export const LAYER_PACKAGES: Readonly<Record<string, string>> = {
  conv2d: CONV, maxPool2d: CONV, avgPool2d: CONV, globalAveragePooling2d: CONV, batchNormalization: CONV,
};
