/** Input builders shared by the backend tests: float32-representable values with known safe ranges. */
import { type Nd, nd, sizeOfShape } from "./reference.js";
import { TestRng } from "@neurite/test-support";

/** Random float32 values of `shape` in [lo, hi), at least `minAbs` away from 0. */
export function rand(rng: TestRng, shape: readonly number[], lo = -2, hi = 2, minAbs = 0): Nd {
  return nd(shape, rng.values(sizeOfShape(shape), lo, hi, minAbs));
}

/**
 * Values on a grid with step `step`, shuffled and offset by `offset`: any two of them differ by at least
 * `step` (or, between two grids with offsets that differ by step/2, by at least step/2). Used where ties or
 * near-ties would put a finite difference across a kink (max, min, maximum, sorting).
 */
export function distinct(rng: TestRng, shape: readonly number[], step = 0.25, offset = 0): Nd {
  const n = sizeOfShape(shape);
  const vals = Array.from({ length: n }, (_, i) => (i - Math.floor(n / 2)) * step + offset);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [vals[i], vals[j]] = [vals[j]!, vals[i]!];
  }
  return nd(shape, vals.map(Math.fround));
}

/** Values on the grid k·step + offset for random integers k in [−range, range]. */
export function grid(rng: TestRng, shape: readonly number[], step: number, offset: number, range = 6): Nd {
  return nd(shape, () => Math.fround((rng.int(2 * range + 1) - range) * step + offset));
}

/** 0/1 values (a where-condition). */
export function mask(rng: TestRng, shape: readonly number[]): Nd {
  return nd(shape, () => (rng.next() < 0.5 ? 0 : 1));
}
