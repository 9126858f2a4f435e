/**
 * `@neurite/activations-smooth`: the smooth, non-monotonic gates (gelu, silu, swish, mish) and softplus, with
 * PyTorch's formulas and defaults.
 *
 * ```ts
 * import { use } from "@neurite/core";
 * import { smoothFamily } from "@neurite/activations-smooth";
 * use(smoothFamily);
 * ```
 * @packageDocumentation
 */
import { type ActivationFamily, type Expr, defineActivation, defineFamily, type ParamsOf } from "@neurite/core";

// the package identity saved models record: from package.json at build time (the bundler keeps just these two
// strings); defineFamily gives it, with the family's name, to every member
import { name as PACKAGE, version as VERSION } from "../package.json";

declare module "@neurite/core" {
  interface ActivationRegistry {
    gelu: ParamsOf<typeof gelu>;
    silu: ParamsOf<typeof silu>;
    swish: ParamsOf<typeof swish>;
    mish: ParamsOf<typeof mish>;
    softplus: ParamsOf<typeof softplus>;
  }
}

// Minima over the reals (float64 golden-section search), the lower ends of the declared ranges.
/** min over x of x·Φ(x) (exact gelu), at x ≈ −0.7518. */
export const GELU_MIN = -0.16997120747990366;
/** min over x of gelu with the tanh approximation, at x ≈ −0.7525. */
export const GELU_TANH_MIN = -0.17004075057125403;
/** min over x of x·σ(x), at x ≈ −1.2785. */
export const SILU_MIN = -0.2784645427610738;
/** min over x of x·tanh(softplus(x)), at x ≈ −1.1924. */
export const MISH_MIN = -0.30884341301725027;

/** √(2/π), PyTorch's kBeta for the tanh approximation of gelu. */
const GELU_K = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
/** 1/√(2π): the standard normal density's constant. */
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** 2u for the tanh approximation: 0.5·(1 + tanh(u)) = σ(2u), u = √(2/π)·(x + 0.044715·x³). */
function geluTanh2u(x: Expr): Expr {
  return x.add(x.mul(x).mul(x).mul(0.044715)).mul(2 * GELU_K);
}

/**
 * x·Φ(x) = 0.5·x·(1 + erf(x/√2)) with `approximate: "none"` (PyTorch's default), or
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) with `"tanh"`, computed as x·σ(2u): the same function, but
 * 1 + tanh(u) no longer cancels to 0 in float32 for x below about −5. −Infinity gives NaN (−∞·0), as in torch.
 */
export const gelu = defineActivation<{ approximate: "none" | "tanh" }>({
  name: "gelu",
  description: "x·Φ(x) = 0.5·x·(1 + erf(x/√2)); approximate \"tanh\": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))",
  params: { approximate: { default: "none", choices: ["none", "tanh"], description: "\"none\": exact with erf; \"tanh\": the tanh approximation" } },
  meta: (p) => ({ range: [p.approximate === "tanh" ? GELU_TANH_MIN : GELU_MIN, Infinity], monotonic: false, smoothAtZero: true }),
  formula: (x, p) =>
    p.approximate === "tanh"
      ? x.mul(geluTanh2u(x).sigmoid())
      : x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1)),
  derivative: (x, _y, p) => {
    if (p.approximate !== "tanh") {
      // PyTorch's cdf + x·pdf
      return x.mul(Math.SQRT1_2).erf().add(1).mul(0.5).add(x.mul(x.mul(x).mul(-0.5).exp()).mul(INV_SQRT_2PI));
    }
    // σ(2u) + x·σ(2u)·σ(−2u)·2u′; beyond |x| = 10 the second term is below 1e-30, and dropping it there keeps
    // float32 from computing 0·∞ once x² overflows
    const v = geluTanh2u(x);
    const s = v.sigmoid();
    const full = s.add(x.mul(s).mul(v.neg().sigmoid()).mul(x.mul(x).mul(3 * 0.044715).add(1).mul(2 * GELU_K)));
    return x.abs().gt(10).where(s, full);
  },
});

/** x·σ(x) (also called swish-1); the derivative σ(x)·(1 + x·(1 − σ(x))) is derived. */
export const silu = defineActivation<Record<never, never>>({
  name: "silu",
  description: "x·sigmoid(x)",
  params: {},
  meta: { range: [SILU_MIN, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x) => x.mul(x.sigmoid()),
});

/** x·σ(beta·x); beta = 1 is silu, beta = 0 is x/2, large beta approaches relu. */
export const swish = defineActivation<{ beta: number }>({
  name: "swish",
  description: "x·sigmoid(beta·x)",
  params: { beta: { default: 1, min: 0, description: "sharpness of the gate σ(beta·x)" } },
  // x·σ(βx) = (βx)·σ(βx)/β: silu scaled down by β, and x/2 (monotonic, unbounded) at β = 0
  meta: (p) => ({ range: [p.beta > 0 ? SILU_MIN / p.beta : -Infinity, Infinity], monotonic: p.beta === 0, smoothAtZero: true }),
  formula: (x, p) => x.mul(x.mul(p.beta).sigmoid()),
});

/** softplus with PyTorch's default threshold 20 (x itself above it): log1p(exp(x)) never overflows. */
function softplus20(x: Expr): Expr {
  return x.gt(20).where(x, x.exp().log1p());
}

/** x·tanh(softplus(x)); the derivative is PyTorch's tanh(sp) + x·σ(x)·(1 − tanh²(sp)). */
export const mish = defineActivation<Record<never, never>>({
  name: "mish",
  description: "x·tanh(log(1 + exp(x)))",
  params: {},
  meta: { range: [MISH_MIN, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x) => x.mul(softplus20(x).tanh()),
  derivative: (x) => {
    const t = softplus20(x).tanh();
    return t.add(x.mul(x.sigmoid()).mul(t.mul(t).neg().add(1)));
  },
});

/**
 * log(1 + exp(beta·x))/beta, and x itself where beta·x > threshold (PyTorch's linear tail, which keeps exp
 * from overflowing). The derivative is σ(beta·x), and 1 on the tail.
 */
export const softplus = defineActivation<{ beta: number; threshold: number }>({
  name: "softplus",
  description: "x if beta·x > threshold, else log(1 + exp(beta·x))/beta",
  params: {
    beta: { default: 1, min: 0, exclusiveMin: true, description: "sharpness: log(1 + exp(beta·x))/beta" },
    threshold: { default: 20, min: 0, description: "above beta·x = threshold the output is x itself" },
  },
  meta: (p) => ({
    range: [0, Infinity],
    // switching to x at the threshold drops the output by log1p(exp(−threshold))/beta: invisible in float32
    // for the default 20, a real step for small thresholds
    monotonic: Math.log1p(Math.exp(-p.threshold)) / p.beta <= 2 ** -24 * Math.max(1, p.threshold / p.beta),
    smoothAtZero: true,
  }),
  formula: (x, p) => {
    const bx = x.mul(p.beta);
    return bx.gt(p.threshold).where(x, bx.exp().log1p().div(p.beta));
  },
  derivative: (x, _y, p) => {
    const bx = x.mul(p.beta);
    return bx.gt(p.threshold).where(1, bx.sigmoid());
  },
});

/** Every activation of the family, registered together with `use(smoothFamily)`. */
export const smoothFamily: ActivationFamily = defineFamily({
  name: "smooth", package: PACKAGE, version: VERSION,
  activations: [gelu, silu, swish, mish, softplus],
});
