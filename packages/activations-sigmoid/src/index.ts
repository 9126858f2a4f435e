/**
 * `@neurite/activations-sigmoid`: the squashing activations (sigmoid, tanh, hardSigmoid, hardTanh, softsign,
 * logSigmoid), with PyTorch's formulas and kink conventions.
 *
 * ```ts
 * import { use } from "@neurite/core";
 * import { sigmoidFamily } from "@neurite/activations-sigmoid";
 * use(sigmoidFamily);
 * ```
 * @packageDocumentation
 */
import { type ActivationFamily, ArgumentError, constant, defineActivation, defineFamily, type ParamsOf } from "@neurite/core";

// the package identity saved models record: from package.json at build time (the bundler keeps just these two
// strings); defineFamily gives it, with the family's name, to every member
import { name as PACKAGE, version as VERSION } from "../package.json";

declare module "@neurite/core" {
  interface ActivationRegistry {
    sigmoid: ParamsOf<typeof sigmoid>;
    tanh: ParamsOf<typeof tanh>;
    hardSigmoid: ParamsOf<typeof hardSigmoid>;
    hardTanh: ParamsOf<typeof hardTanh>;
    softsign: ParamsOf<typeof softsign>;
    logSigmoid: ParamsOf<typeof logSigmoid>;
  }
}

const ONE = constant(1);

/** σ(x) = 1 / (1 + e⁻ˣ), through the `sigmoid` primitive (stable for every x); σ' = y(1 − y). */
export const sigmoid = defineActivation<Record<never, never>>({
  name: "sigmoid",
  description: "1 / (1 + exp(−x))",
  params: {},
  meta: { range: [0, 1], monotonic: true, smoothAtZero: true },
  formula: (x) => x.sigmoid(),
  derivative: (_x, y) => y.mul(ONE.sub(y)),
});

/** tanh(x); tanh' = 1 − y². */
export const tanh = defineActivation<Record<never, never>>({
  name: "tanh",
  description: "(exp(x) − exp(−x)) / (exp(x) + exp(−x))",
  params: {},
  meta: { range: [-1, 1], monotonic: true, smoothAtZero: true },
  formula: (x) => x.tanh(),
  derivative: (_x, y) => ONE.sub(y.mul(y)),
});

/**
 * clip(x/6 + 1/2, 0, 1), as PyTorch's hardsigmoid ((x + 3)/6 between the kinks). The gradient is 1/6 strictly
 * inside (−3, 3) and 0 elsewhere, NaN included (PyTorch's mask).
 */
export const hardSigmoid = defineActivation<Record<never, never>>({
  name: "hardSigmoid",
  description: "0 if x ≤ −3, 1 if x ≥ 3, else x/6 + 1/2",
  params: {},
  meta: { range: [0, 1], monotonic: true, smoothAtZero: true },
  // NaN fails both comparisons and reaches (x + 3)/6, so NaN comes out
  formula: (x) => x.le(-3).where(0, x.ge(3).where(1, x.add(3).div(6))),
  // gt·lt is 0 for NaN: PyTorch's gradient there is 0, not 1/6
  derivative: (x) => x.gt(-3).mul(x.lt(3)).where(1 / 6, 0),
});

/** minVal if x ≤ minVal, maxVal if x ≥ maxVal, else x; the gradient is 0 at both kinks (PyTorch's). */
export const hardTanh = defineActivation<{ minVal: number; maxVal: number }>({
  name: "hardTanh",
  description: "minVal if x ≤ minVal, maxVal if x ≥ maxVal, else x",
  params: {
    minVal: { default: -1, description: "lower clamp (PyTorch's min_val)" },
    maxVal: { default: 1, description: "upper clamp (PyTorch's max_val)" },
  },
  meta: (p) => ({ range: [p.minVal, p.maxVal], monotonic: true, smoothAtZero: p.minVal !== 0 && p.maxVal !== 0 }),
  validate: (p) => {
    if (!(p.minVal < p.maxVal)) {
      throw new ArgumentError(`activation "hardTanh": parameter minVal must be less than maxVal, got minVal=${p.minVal}, maxVal=${p.maxVal}; swap them or widen the interval`);
    }
  },
  // the else branch holds at the kinks, so the derived gradient is 0 at minVal and maxVal and 1 (PyTorch's) at NaN
  formula: (x, p) => x.le(p.minVal).where(p.minVal, x.ge(p.maxVal).where(p.maxVal, x)),
});

/**
 * x / (1 + |x|), as PyTorch computes it (so ±Infinity gives NaN, like torch's softsign). The derivative is
 * derived: (1 − y·sign(x)) / (1 + |x|) = 1/(1 + |x|)².
 */
export const softsign = defineActivation<Record<never, never>>({
  name: "softsign",
  description: "x / (1 + |x|)",
  params: {},
  meta: { range: [-1, 1], monotonic: true, smoothAtZero: true },
  formula: (x) => x.div(x.abs().add(1)),
});

/** log σ(x) = min(x, 0) − log1p(exp(−|x|)): never exp of a positive number; the derivative is σ(−x). */
export const logSigmoid = defineActivation<Record<never, never>>({
  name: "logSigmoid",
  description: "log(1 / (1 + exp(−x))) = min(x, 0) − log(1 + exp(−|x|))",
  params: {},
  meta: { range: [-Infinity, 0], monotonic: true, smoothAtZero: true },
  formula: (x) => x.min(0).sub(x.abs().neg().exp().log1p()),
  derivative: (x) => x.neg().sigmoid(),
});

/** Every activation of the family, registered together with `use(sigmoidFamily)`. */
export const sigmoidFamily: ActivationFamily = defineFamily({
  name: "sigmoid", package: PACKAGE, version: VERSION,
  activations: [sigmoid, tanh, hardSigmoid, hardTanh, softsign, logSigmoid],
});
