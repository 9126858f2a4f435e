/**
 * The 2-D data sets, generated from a seed, so that a URL reproduces them: four classification sets (labels 0 and
 * 1) and one regression set (targets in [−1, 1]). Points lie in [−6, 6]², the square the heat map shows.
 */
import { Random } from "@neurite/core";

export const DATASETS = ["circle", "xor", "gauss", "spiral", "plane"] as const;
export type DatasetName = (typeof DATASETS)[number];

export const DATASET_LABELS: Readonly<Record<DatasetName, string>> = {
  circle: "Circle",
  xor: "XOR",
  gauss: "Gaussian clusters",
  spiral: "Two spirals",
  plane: "Plane (regression)",
};

/** The half-width of the square the data and the heat map cover. */
export const DOMAIN = 6;

export interface Point {
  readonly x: number;
  readonly y: number;
  /** 0 or 1 for classification, the target value for regression. */
  readonly label: number;
}

export function isRegression(dataset: DatasetName): boolean {
  return dataset === "plane";
}

/**
 * `count` points of a data set; `noise` in [0, 1] (0: clean, 1: the most the slider allows). The shapes follow the
 * usual definitions of these toy problems (radius 5 for circle and spirals, clusters at ±2).
 */
export function generate(dataset: DatasetName, count: number, noise: number, seed: number): Point[] {
  const rng = new Random(seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.next();
  const points: Point[] = [];
  const half = Math.floor(count / 2);
  switch (dataset) {
    case "circle": {
      const radius = 5;
      const push = (rMin: number, rMax: number, label: number) => {
        for (let i = 0; i < half; i++) {
          const r = uniform(rMin, rMax);
          const angle = uniform(0, 2 * Math.PI);
          const x = r * Math.sin(angle) + uniform(-radius, radius) * noise * 0.5;
          const y = r * Math.cos(angle) + uniform(-radius, radius) * noise * 0.5;
          points.push({ x, y, label });
        }
      };
      push(0, radius * 0.5, 1);
      push(radius * 0.7, radius, 0);
      break;
    }
    case "xor": {
      const padding = 0.3;
      for (let i = 0; i < count; i++) {
        let x = uniform(-5, 5);
        x += x > 0 ? padding : -padding;
        let y = uniform(-5, 5);
        y += y > 0 ? padding : -padding;
        const label = x * y >= 0 ? 1 : 0;
        points.push({ x: x + uniform(-5, 5) * noise * 0.5, y: y + uniform(-5, 5) * noise * 0.5, label });
      }
      break;
    }
    case "gauss": {
      const spread = 0.5 + noise * 3.5;
      for (const [cx, cy, label] of [[2, 2, 1], [-2, -2, 0]] as const) {
        for (let i = 0; i < half; i++) points.push({ x: cx + rng.normal() * spread, y: cy + rng.normal() * spread, label });
      }
      break;
    }
    case "spiral": {
      for (const [deltaT, label] of [[0, 1], [Math.PI, 0]] as const) {
        for (let i = 0; i < half; i++) {
          const r = (i / half) * 5;
          const t = ((1.75 * i) / half) * 2 * Math.PI + deltaT;
          points.push({ x: r * Math.sin(t) + uniform(-1, 1) * noise, y: r * Math.cos(t) + uniform(-1, 1) * noise, label });
        }
      }
      break;
    }
    case "plane": {
      for (let i = 0; i < count; i++) {
        const x = uniform(-5, 5);
        const y = uniform(-5, 5);
        points.push({ x, y, label: clampUnit((x + y) / 10 + uniform(-1, 1) * noise * 0.5) });
      }
      break;
    }
  }
  return points;
}

function clampUnit(v: number): number {
  return Math.max(-1, Math.min(1, v));
}

/** A point added with the mouse (always in the training set). */
export interface AddedPoint {
  readonly x: number;
  readonly y: number;
  readonly label: number;
}

/** Changes drawn with the mouse, kept in the configuration (and so in the URL). */
export interface PointEdits {
  readonly added: readonly AddedPoint[];
  /** Indices of generated points that were erased. */
  readonly removed: readonly number[];
}

export interface Split {
  readonly train: Point[];
  readonly test: Point[];
}

/**
 * Generated points less the erased ones, split by `trainFraction` after a seeded shuffle; added points go to
 * the training set.
 */
export function splitData(points: readonly Point[], edits: PointEdits, trainFraction: number, seed: number): Split {
  const removed = new Set(edits.removed);
  const kept = points.filter((_, i) => !removed.has(i));
  const order = new Random(seed ^ 0x51a7).permutation(kept.length);
  const nTrain = Math.round(kept.length * trainFraction);
  return {
    train: [...order.slice(0, nTrain).map((i) => kept[i]!), ...edits.added],
    test: order.slice(nTrain).map((i) => kept[i]!),
  };
}

/** Points as a [n, 2] row-major array and their labels. */
export function toArrays(points: readonly Point[]): { xs: Float32Array; ys: Float32Array } {
  const xs = new Float32Array(points.length * 2);
  const ys = new Float32Array(points.length);
  points.forEach((p, i) => {
    xs[2 * i] = p.x;
    xs[2 * i + 1] = p.y;
    ys[i] = p.label;
  });
  return { xs, ys };
}

/** The heat map's sample points: a `size` × `size` grid over [−6, 6]², row by row from the top (y = +6). */
export function gridPoints(size: number): Float32Array {
  const xs = new Float32Array(size * size * 2);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const k = 2 * (row * size + col);
      xs[k] = -DOMAIN + ((col + 0.5) / size) * 2 * DOMAIN;
      xs[k + 1] = DOMAIN - ((row + 0.5) / size) * 2 * DOMAIN;
    }
  }
  return xs;
}
