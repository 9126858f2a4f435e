/**
 * First-party plugin packages, by the names they provide: used only to say "install X" in errors about a
 * name nobody registered. The core imports none of these packages and works without all of them.
 */
const SIGMOID = "@neurite/activations-sigmoid";
const RELU = "@neurite/activations-relu";
const SOFTMAX = "@neurite/activations-softmax";
const SMOOTH = "@neurite/activations-smooth";

export const KNOWN_ACTIVATION_PACKAGES: Readonly<Record<string, string>> = {
  sigmoid: SIGMOID, tanh: SIGMOID, hardSigmoid: SIGMOID, hardTanh: SIGMOID, softsign: SIGMOID, logSigmoid: SIGMOID,
  relu: RELU, relu6: RELU, leakyRelu: RELU, prelu: RELU, elu: RELU, selu: RELU, celu: RELU, hardSwish: RELU,
  softmax: SOFTMAX, logSoftmax: SOFTMAX,
  gelu: SMOOTH, silu: SMOOTH, swish: SMOOTH, mish: SMOOTH, softplus: SMOOTH,
};

export const KNOWN_BACKEND_PACKAGES: Readonly<Record<string, string>> = {
  cpu: "@neurite/backend-cpu",
  wasm: "@neurite/backend-wasm",
};
