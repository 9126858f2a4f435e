/**
 * `@neurite/activations-relu`: the rectifier activations (relu, relu6, leakyRelu, prelu, elu, selu, celu,
 * hardSwish), with PyTorch's formulas, defaults and kink conventions.
 *
 * ```ts
 * import { use } from "@neurite/core";
 * import { reluFamily } from "@neurite/activations-relu";
 * use(reluFamily);
 * ```
 * @packageDocumentation
 */
import { type ActivationFamily, type Expr, defineActivation, defineFamily, type ParamsOf } from "@neurite/core";

// the package identity saved models record: from package.json at build time (the bundler keeps just these two
// strings); defineFamily gives it, with the family's name, to every member
import { name as PACKAGE, version as VERSION } from "../package.json";

declare module "@neurite/core" {
  interface ActivationRegistry {
    // spelled out: ParamsOf widens numbers, and gradAtZero takes only these three values
    relu: { gradAtZero: 0 | 0.5 | 1 };
    relu6: ParamsOf<typeof relu6>;
    leakyRelu: ParamsOf<typeof leakyRelu>;
    prelu: ParamsOf<typeof prelu>;
    elu: ParamsOf<typeof elu>;
    selu: ParamsOf<typeof selu>;
    celu: ParamsOf<typeof celu>;
    hardSwish: ParamsOf<typeof hardSwish>;
  }
}

/** SELU's scale: PyTorch's 1.0507009873554804934193349852946 as the nearest float64 (Klambauer et al. 2017). */
export const SELU_SCALE = 1.0507009873554805;
/** SELU's alpha: PyTorch's 1.6732632423543772848170429916717 as the nearest float64. */
export const SELU_ALPHA = 1.6732632423543772;

/**
 * max(0, x). `gradAtZero` picks relu'(0): 0 (PyTorch's default), 0.5 or 1. relu(−0) = −0 and NaN passes
 * through; the gradient at NaN is 1 (PyTorch's mask `x <= 0 ? 0 : g`).
 */
export const relu = defineActivation<{ gradAtZero: 0 | 0.5 | 1 }>({
  name: "relu",
  description: "x if x > 0, else 0",
  params: {
    gradAtZero: { default: 0, choices: [0, 0.5, 1], description: "the derivative used at exactly x = 0" },
  },
  meta: { range: [0, Infinity], monotonic: true, smoothAtZero: false },
  // lt (not le) keeps −0 as −0, like torch
  formula: (x) => x.lt(0).where(0, x),
  derivative: (x, _y, p) => x.lt(0).where(0, x.eq(0).where(p.gradAtZero, 1)),
});

/** min(max(0, x), 6) (PyTorch's hardtanh(x, 0, 6)); the gradient is 0 at both kinks, 0 and 6. */
export const relu6 = defineActivation<Record<never, never>>({
  name: "relu6",
  description: "0 if x ≤ 0, 6 if x ≥ 6, else x",
  params: {},
  meta: { range: [0, 6], monotonic: true, smoothAtZero: false },
  formula: (x) => x.le(0).where(0, x.ge(6).where(6, x)),
});

/** x if x > 0, else alpha·x; leakyRelu'(0) = alpha. */
export const leakyRelu = defineActivation<{ alpha: number }>({
  name: "leakyRelu",
  description: "x if x > 0, else alpha·x",
  params: { alpha: { default: 0.01, min: 0, description: "slope for x ≤ 0 (PyTorch's negative_slope)" } },
  meta: (p) => ({ range: [p.alpha > 0 ? -Infinity : 0, Infinity], monotonic: true, smoothAtZero: p.alpha === 1 }),
  formula: (x, p) => x.gt(0).where(x, x.mul(p.alpha)),
});

/**
 * x if x > 0, else alpha·x with a learned slope alpha (initially 0.25, one shared value as PyTorch's default
 * `num_parameters=1`). In a layer, alpha becomes a weight; prelu'(0) = alpha.
 */
export const prelu = defineActivation<{ alpha: number }>({
  name: "prelu",
  description: "x if x > 0, else alpha·x, alpha learned",
  params: { alpha: { default: 0.25, trainable: true, description: "initial slope for x ≤ 0 (PyTorch's weight)" } },
  meta: (p) => ({
    // a negative slope folds x < 0 upwards: outputs stay ≥ 0 and the function is no longer monotonic
    range: [p.alpha > 0 ? -Infinity : 0, Infinity],
    monotonic: p.alpha >= 0,
    smoothAtZero: p.alpha === 1,
  }),
  formula: (x, p) => x.gt(0).where(x, x.mul(p.alpha)),
});

/**
 * expm1(x) + 0: the same value, except that −0 becomes +0. PyTorch's ELU family computes (e^x − 1)·α, which
 * is +0 at x = −0 (e^−0 − 1 = +0), while expm1(−0) is −0; adding +0 matches it on every backend and changes
 * no other value.
 */
const expm1PlusZero = (x: Expr): Expr => x.expm1().add(0);

/** x if x > 0, else alpha·(exp(x) − 1); elu(−0) = +0, elu'(0) = alpha, and the gradient at NaN is 1 (PyTorch's). */
export const elu = defineActivation<{ alpha: number }>({
  name: "elu",
  description: "x if x > 0, else alpha·(exp(x) − 1)",
  params: { alpha: { default: 1, min: 0, description: "the value approached as x → −∞ is −alpha" } },
  meta: (p) => ({ range: [-p.alpha, Infinity], monotonic: true, smoothAtZero: p.alpha === 1 }),
  // the x ≤ 0 branch is the condition, so NaN takes the x branch: NaN out, derivative 1, like torch
  formula: (x, p) => x.le(0).where(expm1PlusZero(x).mul(p.alpha), x),
});

/** scale·(x if x > 0, else alpha·(exp(x) − 1)) with PyTorch's fixed scale and alpha. */
export const selu = defineActivation<Record<never, never>>({
  name: "selu",
  description: "scale·x if x > 0, else scale·alpha·(exp(x) − 1), scale ≈ 1.0507, alpha ≈ 1.6733",
  params: {},
  meta: { range: [-SELU_SCALE * SELU_ALPHA, Infinity], monotonic: true, smoothAtZero: false },
  formula: (x) => x.le(0).where(expm1PlusZero(x).mul(SELU_SCALE * SELU_ALPHA), x.mul(SELU_SCALE)),
});

/** max(0, x) + min(0, alpha·(exp(x/alpha) − 1)); continuously differentiable for every alpha > 0. */
export const celu = defineActivation<{ alpha: number }>({
  name: "celu",
  description: "max(0, x) + min(0, alpha·(exp(x/alpha) − 1))",
  params: { alpha: { default: 1, min: 0, exclusiveMin: true, description: "the value approached as x → −∞ is −alpha" } },
  meta: (p) => ({ range: [-p.alpha, Infinity], monotonic: true, smoothAtZero: true }),
  formula: (x, p) => x.le(0).where(expm1PlusZero(x.div(p.alpha)).mul(p.alpha), x),
});

/**
 * x·relu6(x + 3)/6. PyTorch's gradient: 0 for x < −3, (2x + 3)/6 on [−3, 3), 1 from 3 on. x·0 below −3 keeps
 * torch's NaN at −Infinity (−∞·0).
 */
export const hardSwish = defineActivation<Record<never, never>>({
  name: "hardSwish",
  description: "0 if x < −3, x if x ≥ 3, else x·(x + 3)/6",
  params: {},
  meta: { range: [-0.375, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x) => x.lt(-3).where(x.mul(0), x.lt(3).where(x.mul(x.add(3)).div(6), x)),
});

/** Every activation of the family, registered together with `use(reluFamily)`. */
export const reluFamily: ActivationFamily = defineFamily({
  name: "relu", package: PACKAGE, version: VERSION,
  activations: [relu, relu6, leakyRelu, prelu, elu, selu, celu, hardSwish],
});
