/**
 * `@neurite/testkit`: `checkActivation`, which checks an activation plugin the way the first-party ones are
 * checked, and the reference-file runner (`runConformance`, also the `neurite-conformance` CLI) that checks
 * Neurite against PyTorch's values.
 *
 * ```ts
 * import { checkActivation } from "@neurite/testkit";
 * await checkActivation(elu, { params: [{}, { alpha: 0.5 }] });
 * ```
 * @packageDocumentation
 */
export {
  checkActivation, type CheckActivationOptions, type ActivationCheckReport, type CheckResult, type CheckName,
} from "./check/check-activation.js";
export { runConformance, hasMlpSection, type ConformanceOptions } from "./conformance/runner.js";
export { runActivationFile, overrideApplies, DEFAULT_TOLERANCES } from "./conformance/activations.js";
export { runMlpFile, MLP_TOLERANCES } from "./conformance/mlp.js";
export { TORCH_OPS, torchOpsFor, type TorchOp } from "./conformance/names.js";
export { type RefNumber, type Tolerance, type Comparison, decodeNumber, decodeArray, valueMatches, compareArrays } from "./conformance/numbers.js";
export { compareDetailed, describeMismatches, type DetailedComparison, type Mismatch } from "./conformance/compare.js";
export type { CaseResult, CaseStatus, ConformanceReport, RunOptions } from "./conformance/types.js";
export { prepareBackends, KNOWN_BACKENDS, type BackendAvailability } from "./backends.js";
export { formatReport, summaryLine } from "./report.js";
