import { type BoundActivation, trainableParams } from "@neurite/core";

/**
 * Whether an activation gives the same values whatever the order of the axes (NHWC or NCHW): elementwise, with
 * no trainable (possibly per-channel) parameters. Such an activation needs no Transpose around it.
 */
export function orderFree(act: BoundActivation): boolean {
  return act.plugin.type !== "axis" && trainableParams(act.plugin).length === 0;
}
