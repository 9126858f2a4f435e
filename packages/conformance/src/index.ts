/**
 * `@neurite/conformance`: the reference runner. It checks Neurite (every first-party activation family, on
 * the cpu and wasm backends, plus any plugins you register or load with `--plugin`) against PyTorch
 * reference files: activation cases and small MLPs (forward, gradients, optimizer steps, trajectories).
 * The `conformance` CLI is the same from the command line.
 *
 * ```ts
 * import { formatReport, runConformance } from "@neurite/conformance";
 * const report = await runConformance(["activations.json"], { backends: ["cpu"] });
 * console.log(formatReport(report));
 * ```
 * @packageDocumentation
 */
export { runConformance, hasMlpSection, type ConformanceOptions } from "./runner.js";
export { runMlpFile, MLP_TOLERANCES } from "./mlp/index.js";
export { prepareBackends, KNOWN_BACKENDS, type BackendAvailability } from "./backends.js";
export { formatReport, summaryLine } from "./report.js";
export { loadPlugins, type LoadedPlugins } from "./plugins.js";
