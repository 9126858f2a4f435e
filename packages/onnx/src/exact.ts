/**
 * Activations that have an ONNX operator of the same semantics, keyed by the plugin's package and name, with the
 * parameter values for which the operator matches and the first opset that has it. Anything not matched here
 * (another opset, other parameters, a user's activation) is lowered from its formula instead, which is always
 * available: this table only makes the file smaller and lets runtimes use their fused kernels.
 */
import type { ActivationParams } from "@neurite/core";
import type { Emitter } from "./lower.js";

/** An exact operator for one activation: emits it over x (and trainable parameter inputs by name). */
export interface ExactOperator {
  /** The ONNX operator written, for reports and tests. */
  readonly opType: string;
  /** The first opset of the default domain that has the operator in this form. */
  readonly sinceOpset: number;
  /** Whether it matches these parameter values (e.g. softplus only at beta 1). */
  matches(params: ActivationParams): boolean;
  emit(e: Emitter, x: string, params: ActivationParams, trainable: Readonly<Record<string, string>>): string;
}

const RELU = "@neurite/activations-relu";
const SIGMOID = "@neurite/activations-sigmoid";
const SMOOTH = "@neurite/activations-smooth";

const always = (): boolean => true;
const num = (p: ActivationParams, k: string): number => p[k] as number;

/** `package:name` → exact operator. */
export const EXACT_OPERATORS: ReadonlyMap<string, ExactOperator> = new Map<string, ExactOperator>([
  [`${RELU}:relu`, { opType: "Relu", sinceOpset: 6, matches: always, emit: (e, x) => e.op("Relu", [x]) }],
  [`${RELU}:relu6`, { opType: "Clip", sinceOpset: 13, matches: always, emit: (e, x) => e.op("Clip", [x, e.c(0), e.c(6)]) }],
  [`${RELU}:leakyRelu`, { opType: "LeakyRelu", sinceOpset: 6, matches: always, emit: (e, x, p) => e.op("LeakyRelu", [x], { alpha: { float: num(p, "alpha") } }) }],
  [`${RELU}:prelu`, { opType: "PRelu", sinceOpset: 9, matches: always, emit: (e, x, _p, w) => e.op("PRelu", [x, w.alpha!]) }],
  [`${RELU}:elu`, { opType: "Elu", sinceOpset: 6, matches: always, emit: (e, x, p) => e.op("Elu", [x], { alpha: { float: num(p, "alpha") } }) }],
  [`${RELU}:selu`, {
    opType: "Selu", sinceOpset: 6, matches: always,
    // PyTorch's constants, which are also ONNX Selu's defaults; written out so no runtime default is assumed
    emit: (e, x) => e.op("Selu", [x], { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } }),
  }],
  [`${RELU}:celu`, { opType: "Celu", sinceOpset: 12, matches: always, emit: (e, x, p) => e.op("Celu", [x], { alpha: { float: num(p, "alpha") } }) }],
  [`${RELU}:hardSwish`, { opType: "HardSwish", sinceOpset: 14, matches: always, emit: (e, x) => e.op("HardSwish", [x]) }],
  [`${SIGMOID}:sigmoid`, { opType: "Sigmoid", sinceOpset: 6, matches: always, emit: (e, x) => e.op("Sigmoid", [x]) }],
  [`${SIGMOID}:tanh`, { opType: "Tanh", sinceOpset: 6, matches: always, emit: (e, x) => e.op("Tanh", [x]) }],
  [`${SIGMOID}:hardSigmoid`, {
    opType: "HardSigmoid", sinceOpset: 6, matches: always,
    emit: (e, x) => e.op("HardSigmoid", [x], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }),
  }],
  [`${SIGMOID}:hardTanh`, { opType: "Clip", sinceOpset: 13, matches: always, emit: (e, x, p) => e.op("Clip", [x, e.c(num(p, "minVal")), e.c(num(p, "maxVal"))]) }],
  [`${SIGMOID}:softsign`, { opType: "Softsign", sinceOpset: 1, matches: always, emit: (e, x) => e.op("Softsign", [x]) }],
  [`${SMOOTH}:softplus`, {
    // ONNX Softplus has no threshold: it equals PyTorch's to float32 precision only at the default 20 and beta 1
    opType: "Softplus", sinceOpset: 1, matches: (p) => p.beta === 1 && p.threshold === 20, emit: (e, x) => e.op("Softplus", [x]),
  }],
  [`${SMOOTH}:mish`, { opType: "Mish", sinceOpset: 18, matches: always, emit: (e, x) => e.op("Mish", [x]) }],
  [`${SMOOTH}:gelu`, {
    opType: "Gelu", sinceOpset: 20, matches: always,
    emit: (e, x, p) => e.op("Gelu", [x], { approximate: { string: p.approximate === "tanh" ? "tanh" : "none" } }),
  }],
]);

/** The exact operator for a plugin at these parameters and opset, if any. */
export function exactOperator(plugin: { package: string; name: string }, params: ActivationParams, opset: number): ExactOperator | undefined {
  const op = EXACT_OPERATORS.get(`${plugin.package}:${plugin.name}`);
  return op && op.sinceOpset <= opset && op.matches(params) ? op : undefined;
}
