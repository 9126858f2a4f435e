import { ArgumentError, Random } from "@neurite/core";
import type { Dataset } from "./types.js";

export interface XorOptions {
  /** Samples. Default 400. */
  readonly n?: number;
  readonly seed?: number;
}

/**
 * XOR in the plane: points uniform in [−2, 2]², class 1 where the two coordinates have the same sign.
 * Like the spirals it has no linear solution, but one hidden layer of a few units solves it.
 */
export function xor(options: XorOptions = {}): Dataset {
  const { n = 400, seed = 1 } = options;
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`xor: n must be a positive integer, got ${n}`);
  const rng = new Random(seed);
  const x: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = 4 * rng.next() - 2;
    const b = 4 * rng.next() - 2;
    x.push([a, b]);
    labels.push(a * b > 0 ? 1 : 0);
  }
  return { name: "xor", x, labels, classes: ["different signs", "same sign"], features: ["x₁", "x₂"] };
}
