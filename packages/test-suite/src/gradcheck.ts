/**
 * Gradient checks of backend ops against finite differences, two ways:
 *
 * 1. **float64 reference**: the analytic gradient (computed by the backend in float32 through autograd) is
 *    compared with central differences of a float64 re-implementation of the same function (plain JS over
 *    Float64Array): tight, because the reference has no float32 rounding.
 * 2. **float32 backend**: central differences of the backend's own forward pass at x ± h, with a loose
 *    tolerance: it checks that the gradient belongs to the forward the backend actually computes.
 *
 * The scalar differentiated is L = Σ f(x)·W with fixed random weights W, so that every output element
 * contributes with a different weight (a plain sum would hide transposed or misplaced gradients).
 */
import { type Tensor, mul, scope, sum, valueAndGradOf } from "@neurite/core";
import { expect } from "vitest";
import { expectClose, maxAbs, mismatches } from "./assert.js";
import { type Nd, dot, nd } from "./reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "./tensors.js";

export interface GradCase {
  /** Names the op and variant in failure messages. */
  readonly name: string;
  /** Input values (float32-representable; see {@link TestRng}). */
  readonly inputs: readonly Nd[];
  /** The op on backend tensors. */
  readonly f: (...ts: Tensor[]) => Tensor;
  /** The same function in float64. */
  readonly ref: (...xs: Nd[]) => Nd;
  /** Which inputs are differentiated (default: all). */
  readonly wrt?: readonly number[];
  /** Relative tolerance of the forward check (default 1e-5). */
  readonly forwardRtol?: number;
  /** Relative tolerance against the float64 finite difference (default 1e-4). */
  readonly rtol?: number;
  /** Step of the float32 backend finite difference, relative to max(1, |x|) (default 1e-3). */
  readonly h32?: number;
  /** Elements per input checked against the float32 backend finite difference (default 6; 0 skips it). */
  readonly fd32Samples?: number;
}

export interface GradCheckResult {
  /** Gradient elements compared with the float64 finite difference. */
  readonly checked64: number;
  /** Gradient elements compared with the float32 backend finite difference. */
  readonly checked32: number;
}

function perturbed(x: Nd, j: number, v: number): Nd {
  const data = Float64Array.from(x.data);
  data[j] = v;
  return { shape: x.shape, data };
}

/** Runs both checks for one case; throws (through expect) with the case name on any mismatch. */
export function gradCheck(c: GradCase, seed = 7): GradCheckResult {
  const wrt = c.wrt ?? c.inputs.map((_, i) => i);
  return scope(() => {
    const ts = c.inputs.map(fromNd);
    // forward: shape and values against the reference
    const refOut = c.ref(...c.inputs);
    const out = c.f(...ts);
    expect([...out.shape], `${c.name}: forward shape`).toEqual([...refOut.shape]);
    expectClose(out.dataSync(), refOut.data, { rtol: c.forwardRtol ?? 1e-5, atol: 1e-6 }, `${c.name}: forward`);

    const rng = new TestRng(seed);
    const w = nd(refOut.shape, () => rng.uniform(-1, 1));
    const wt = fromNd(w);
    const loss = (...xs: Tensor[]): Tensor => sum(mul(c.f(...xs), wt));
    const lossRef = (...xs: Nd[]): number => dot(c.ref(...xs), w);

    const { value, grads } = valueAndGradOf(() => loss(...ts), wrt.map((i) => ts[i]!));
    const l0 = lossRef(...c.inputs);
    expectClose([value.item()], [l0], { rtol: 1e-4, atol: 1e-5 }, `${c.name}: loss value`);

    let checked64 = 0;
    let checked32 = 0;
    wrt.forEach((i, k) => {
      const x = c.inputs[i]!;
      const g = grads[k]!;
      expect([...g.shape], `${c.name}: gradient ${i} shape`).toEqual([...x.shape]);
      const analytic = g.dataSync();

      // 1. float64 central differences of the reference
      const numeric = new Float64Array(x.data.length);
      for (let j = 0; j < x.data.length; j++) {
        const v = x.data[j]!;
        const h = 1e-6 * Math.max(1, Math.abs(v));
        const args = (u: number) => c.inputs.map((y, q) => (q === i ? perturbed(x, j, u) : y));
        numeric[j] = (lossRef(...args(v + h)) - lossRef(...args(v - h))) / (2 * h);
      }
      const rtol = c.rtol ?? 1e-4;
      expectClose(analytic, numeric, { rtol, atol: rtol * 0.1 }, `${c.name}: d/d input ${i} vs float64 finite differences`);
      checked64 += numeric.length;

      // 2. float32 central differences of the backend's own forward pass, on a few elements
      const samples = Math.min(c.fd32Samples ?? 6, x.data.length);
      const picked = new Set<number>();
      for (let s = 0; s < samples; s++) picked.add(Math.floor((s * x.data.length) / samples));
      const fd32: number[] = [];
      const an32: number[] = [];
      for (const j of picked) {
        const v = x.data[j]!;
        const h = (c.h32 ?? 1e-3) * Math.max(1, Math.abs(v));
        const up = Math.fround(v + h);
        const down = Math.fround(v - h);
        const at = (u: number) =>
          scope(() => loss(...c.inputs.map((y, q) => (q === i ? fromNd(perturbed(x, j, u)) : ts[q]!))).item());
        fd32.push((at(up) - at(down)) / (up - down));
        an32.push(analytic[j]!);
      }
      const bad = mismatches(an32, fd32, { rtol: 1e-2, atol: 2e-3 * Math.max(1, Math.abs(l0), maxAbs(fd32)) });
      expect(bad, `${c.name}: d/d input ${i} vs float32 backend finite differences at elements ${[...picked].join(",")}`).toEqual([]);
      checked32 += picked.size;
    });
    return { checked64, checked32 };
  });
}
