import { ArgumentError } from "@neurite/core";
import { iris } from "./iris.js";
import { spirals } from "./spirals.js";
import type { Dataset } from "./types.js";
import { xor } from "./xor.js";

export { iris, irisMeasurements, irisSplit } from "./iris.js";
export { spirals } from "./spirals.js";
export { xor } from "./xor.js";
export { type Dataset, type Split, subset } from "./types.js";

/** The data sets `train --dataset` accepts. */
export const DATASET_NAMES = ["spirals", "xor", "iris"] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** A data set by name, seeded where it is generated. */
export function loadDataset(name: DatasetName, seed: number): Dataset {
  switch (name) {
    case "spirals": return spirals({ seed });
    case "xor": return xor({ seed });
    case "iris": return iris();
    default: throw new ArgumentError(`unknown data set ${JSON.stringify(name)}; choose one of ${DATASET_NAMES.join(", ")}`);
  }
}
