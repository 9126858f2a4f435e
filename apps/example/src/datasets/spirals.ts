import { ArgumentError, Random } from "@neurite/core";
import type { Dataset } from "./types.js";

export interface SpiralOptions {
  /** Samples in all (half per arm). Default 400. */
  readonly n?: number;
  /** Turns of each arm. Default 1. */
  readonly turns?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate. Default 0.06. */
  readonly noise?: number;
  readonly seed?: number;
}

/**
 * Two interleaved spirals, class 0 and class 1, within about [−2, 2]²: the classic problem that no linear
 * boundary can separate (a straight line gets about half of the points right).
 */
export function spirals(options: SpiralOptions = {}): Dataset {
  const { n = 400, turns = 1, noise = 0.06, seed = 1 } = options;
  if (!Number.isInteger(n) || n < 2) throw new ArgumentError(`spirals: n must be an integer >= 2, got ${n}`);
  if (!(turns > 0)) throw new ArgumentError(`spirals: turns must be > 0, got ${turns}`);
  const rng = new Random(seed);
  const x: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const t = rng.next();
    const r = 2 * (0.12 + 0.88 * t);
    const angle = 2 * Math.PI * turns * t + c * Math.PI;
    x.push([r * Math.cos(angle) + noise * rng.normal(), r * Math.sin(angle) + noise * rng.normal()]);
    labels.push(c);
  }
  return { name: "spirals", x, labels, classes: ["arm A", "arm B"], features: ["x₁", "x₂"] };
}
