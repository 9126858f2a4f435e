import type { ElementwiseActivation } from "./contract.js";
import { CORE_VERSION } from "../process-state.js";

/** The identity f(x) = x ("no activation"): built into the core as the Dense default, as in Keras. */
export const linear: ElementwiseActivation<Record<string, never>> = {
  kind: "activation",
  type: "elementwise",
  name: "linear",
  family: "core",
  package: "@neurite/core",
  version: CORE_VERSION,
  description: "x (the identity: a layer without a non-linearity)",
  params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x) => x,
};
