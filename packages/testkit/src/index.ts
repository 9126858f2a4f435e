/**
 * `@neurite/testkit`: the plugin author's tool. `checkActivation` checks an activation plugin the way the
 * first-party ones are checked, against the float32 contract every backend meets and, when given, an
 * independent float64 reference; `runActivationFile` checks registered activations against a reference
 * file of PyTorch's values (the `cases` schema). It depends on `@neurite/core` only: bring the backends you
 * check on. The full reference runner and its CLI are `@neurite/conformance`.
 *
 * ```ts
 * import { checkActivation } from "@neurite/testkit";
 * await checkActivation(elu, { params: [{}, { alpha: 2 }], reference: (x, p) => (x > 0 ? x : p.alpha * Math.expm1(x)) });
 * ```
 * @packageDocumentation
 */
export {
  checkActivation, type CheckActivationOptions, type ActivationCheckReport, type CheckResult, type CheckName,
} from "./check/check-activation.js";
export { runActivationFile, overrideApplies, DEFAULT_TOLERANCES } from "./reference/activations.js";
export { TORCH_OPS, torchOpsFor, type TorchOp } from "./reference/names.js";
export { type RefNumber, type Tolerance, type Comparison, decodeNumber, decodeArray, valueMatches, compareArrays } from "./reference/numbers.js";
export { compareDetailed, describeMismatches, fmtNumber, type DetailedComparison, type Mismatch } from "./reference/compare.js";
export type { CaseResult, CaseStatus, ConformanceReport, RunOptions } from "./reference/types.js";
