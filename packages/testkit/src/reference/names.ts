/**
 * The one table from PyTorch's op and parameter names (as reference files spell them) to Neurite's.
 * A parameter mapped to `null` is accepted and has no effect on values (`inplace`).
 */
export interface TorchOp {
  /** The Neurite activation name. */
  readonly name: string;
  /** PyTorch parameter → Neurite parameter. */
  readonly params: Readonly<Record<string, string | null>>;
}

const IGNORED = { inplace: null } as const;
const AXIS = { dim: "axis", axis: "axis" } as const;

export const TORCH_OPS: Readonly<Record<string, TorchOp>> = {
  sigmoid: { name: "sigmoid", params: {} },
  tanh: { name: "tanh", params: {} },
  hardsigmoid: { name: "hardSigmoid", params: IGNORED },
  hardtanh: { name: "hardTanh", params: { min_val: "minVal", max_val: "maxVal", ...IGNORED } },
  softsign: { name: "softsign", params: {} },
  logsigmoid: { name: "logSigmoid", params: {} },
  relu: { name: "relu", params: IGNORED },
  relu6: { name: "relu6", params: IGNORED },
  leaky_relu: { name: "leakyRelu", params: { negative_slope: "alpha", ...IGNORED } },
  // weight may be one number or a list with weight_shape: the runner passes it as the weight tensor
  prelu: { name: "prelu", params: { weight: "alpha" } },
  elu: { name: "elu", params: { alpha: "alpha", ...IGNORED } },
  selu: { name: "selu", params: IGNORED },
  celu: { name: "celu", params: { alpha: "alpha", ...IGNORED } },
  hardswish: { name: "hardSwish", params: IGNORED },
  softmax: { name: "softmax", params: AXIS },
  log_softmax: { name: "logSoftmax", params: AXIS },
  gelu: { name: "gelu", params: { approximate: "approximate" } },
  silu: { name: "silu", params: IGNORED },
  mish: { name: "mish", params: IGNORED },
  softplus: { name: "softplus", params: { beta: "beta", threshold: "threshold" } },
};

/** PyTorch op names (as reference files use them) that map to one of the given Neurite activation names. */
export function torchOpsFor(names: readonly string[]): string[] {
  return Object.entries(TORCH_OPS).filter(([, op]) => names.includes(op.name)).map(([torch]) => torch);
}
