import { constant, defineActivation } from "@neurite/core";

/**
 * The app's own activation, to show that a user's plugin gets the same treatment as the shipped ones:
 * bent identity, f(x) = (√(x² + 1) − 1)/2 + x. It is smooth, monotonic and unbounded on both sides, so it
 * neither saturates (like sigmoid) nor dies (like ReLU): f'(x) = 1 + x/(2√(x² + 1)) lies in (0.5, 1.5).
 *
 * Only the formula is written; the core derives f' symbolically and every backend fuses it into one kernel.
 */
export const bentIdentity = defineActivation({
  name: "bentIdentity",
  family: "example",
  package: "example",
  version: "0.1.0",
  description: "(sqrt(x² + 1) − 1)/2 + x",
  params: {},
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x) => {
    const ax = x.abs();
    // √(x²+1) − 1 = x²/(√(x²+1) + 1): no cancellation near 0. Past |x| = 1e4, x² would overflow float32
    // kernels, so use √(x²+1) = |x| + 1/(2|x|) + O(|x|⁻³) there (off by less than 1e-12).
    const near = x.square().div(x.square().add(1).sqrt().add(1));
    const far = ax.add(constant(0.5).div(ax)).sub(1);
    return ax.gt(1e4).where(far, near).div(2).add(x);
  },
});

/** The same function, written directly in float64: an independent reference for the app's tests. */
export function bentIdentityReference(x: number): number {
  return (Math.sqrt(x * x + 1) - 1) / 2 + x;
}

declare module "@neurite/core" {
  interface ActivationRegistry {
    /** The example app's own activation (no parameters). */
    bentIdentity: Record<never, never>;
  }
}
