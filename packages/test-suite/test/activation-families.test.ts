/**
 * Every activation of the four families passes testkit's checkActivation on every backend (forward against
 * the float64 evaluation, gradients against float64 finite differences, cpu/wasm parity, range and
 * monotonicity, parameter validation, serialization), with default and non-default parameters.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import type { ActivationPlugin, ParamValue } from "@neurite/core";
import { use } from "@neurite/core";
import { checkActivation } from "@neurite/testkit";
import { describe, expect, it } from "vitest";
import { BACKENDS, registerBackends } from "../src/backends.js";

registerBackends();
use(sigmoidFamily, reluFamily, softmaxFamily, smoothFamily);

/** Non-default parameter sets worth checking beside the defaults. */
const EXTRA_PARAMS: Record<string, readonly Record<string, ParamValue>[]> = {
  relu: [{ gradAtZero: 0.5 }, { gradAtZero: 1 }],
  leakyRelu: [{ alpha: 0.2 }],
  prelu: [{ alpha: -0.5 }],
  elu: [{ alpha: 2 }],
  celu: [{ alpha: 0.5 }],
  hardTanh: [{ minVal: -2, maxVal: 0.5 }],
  gelu: [{ approximate: "tanh" }],
  swish: [{ beta: 2 }],
  softplus: [{ beta: 2, threshold: 10 }],
  softmax: [{ temperature: 2 }],
  logSoftmax: [{ temperature: 0.5 }],
};

const FAMILIES = [sigmoidFamily, reluFamily, softmaxFamily, smoothFamily];

describe.each(FAMILIES.map((f) => ({ family: f.package, plugins: f.activations })))("$family", ({ plugins }) => {
  it.each(plugins.map((p: ActivationPlugin) => ({ name: p.name, plugin: p })))(`$name passes checkActivation on ${BACKENDS.join(" and ")}`, async ({ plugin }) => {
    const report = await checkActivation(plugin, { backends: BACKENDS, params: [{}, ...(EXTRA_PARAMS[plugin.name] ?? [])], numRuns: 30 });
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.backends).toEqual([...BACKENDS]);
  });
});
