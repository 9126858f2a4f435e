/** A small classification data set held as plain arrays (the parts turn it into tensors where they train). */
export interface Dataset {
  readonly name: string;
  /** One row of features per sample. */
  readonly x: readonly (readonly number[])[];
  /** The class index of each sample. */
  readonly labels: readonly number[];
  /** Class names, by index. */
  readonly classes: readonly string[];
  /** Feature names, by column. */
  readonly features: readonly string[];
}

/** A data set split into a part to train on and a part held out. */
export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Takes the rows at `indices`. */
export function subset(d: Dataset, indices: readonly number[], name = d.name): Dataset {
  return { ...d, name, x: indices.map((i) => d.x[i]!), labels: indices.map((i) => d.labels[i]!) };
}
