import type { AdamArgs } from "@neurite/core";
import { dataOf } from "./memory.js";

/**
 * One Adam / AdamW step in place, in float64 per element (PyTorch's order):
 * g' = g + wd·p; p ← p·(1 − lr·wdDecoupled); m ← β1 m + (1 − β1) g'; v ← β2 v + (1 − β2) g'²;
 * p ← p − lr·(m / bc1) / (√(v / bc2) + ε).
 */
export function adam(args: AdamArgs): void {
  const { size, lr, beta1, beta2, eps, biasCorrection1, biasCorrection2, weightDecay } = args;
  const param = dataOf(args.param, "param");
  const grad = dataOf(args.grad, "grad");
  const m = dataOf(args.m, "m");
  const v = dataOf(args.v, "v");
  for (const [name, data] of [["param", param], ["grad", grad], ["m", m], ["v", v]] as const) {
    if (data.length < size) throw new RangeError(`cpu adam: ${name} holds ${data.length} values, fewer than size ${size}`);
  }
  const decay = 1 - lr * args.decoupledWeightDecay;
  const b1c = 1 - beta1;
  const b2c = 1 - beta2;
  const step = lr / biasCorrection1;
  const invBc2 = 1 / biasCorrection2;
  for (let i = 0; i < size; i++) {
    const p0 = param[i]!;
    const g = grad[i]! + weightDecay * p0;
    const mi = beta1 * m[i]! + b1c * g;
    const vi = beta2 * v[i]! + b2c * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p0 * decay - (step * mi) / (Math.sqrt(vi * invBc2) + eps);
  }
}
