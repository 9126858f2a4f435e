/**
 * "Did you mean" for names and option keys: the closest known name by edit distance, after folding case,
 * underscores and dashes, so `leaky_relu` finds `leakyRelu`, `Adam` finds `adam` and `eluu` finds `elu`.
 */

/** Folds the spellings a user may mix up: case, `_`, `-` and spaces (`Leaky_Relu` → `leakyrelu`). */
export function foldName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  // inputs are user names; bound the work so a megabyte-long key cannot make an error message slow
  if (a.length > 256 || b.length > 256) return Math.max(a.length, b.length);
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * Names other libraries use for the same thing (Keras, PyTorch), keyed by folded spelling: `learningRate`
 * is not close to `lr` by any edit distance, but it is what a Keras user types.
 */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  learningrate: ["lr"],
  lrate: ["lr"],
  epsilon: ["eps"],
  eps: ["epsilon"],
  decay: ["weightDecay"],
  l2: ["weightDecay"],
  rho: ["alpha"],
  betas: ["beta1", "beta2"],
  stddev: ["std"],
  standarddeviation: ["std"],
  minval: ["min"],
  maxval: ["max"],
  epoch: ["epochs"],
  nbepoch: ["epochs"],
  numepochs: ["epochs"],
  batch: ["batchSize"],
  verbose: ["callbacks"],
  activationfn: ["activation"],
  outputdim: ["units"],
  outfeatures: ["units"],
  usebias: ["useBias"],
  bias: ["useBias"],
  p: ["rate"],
  dropout: ["rate"],
  inputdim: ["inputShape"],
  input: ["inputShape"],
  kernel: ["kernelInitializer"],
  fromlogit: ["fromLogits"],
  logits: ["fromLogits"],
  crossentropy: ["categoricalCrossEntropy"],
  bce: ["binaryCrossEntropy"],
  mse: ["meanSquaredError"],
  meansquarederror: ["mse"],
  meanabsoluteerror: ["mae"],
  acc: ["accuracy"],
};

/**
 * The known name closest to `name`, or undefined when none is close enough to be a likely typo.
 * Candidates are compared case-, underscore- and dash-insensitively first, then by edit distance.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const known = [...new Set(candidates)].filter((c) => c !== name);
  if (known.length === 0) return undefined;
  const folded = foldName(name);
  const sameFold = known.find((c) => foldName(c) === folded);
  if (sameFold !== undefined) return sameFold;
  const synonyms = Object.hasOwn(SYNONYMS, folded) ? SYNONYMS[folded]! : [];
  const synonym = known.find((c) => synonyms.includes(c));
  if (synonym !== undefined) return synonym;
  // a typo changes about one character in three; names of 3 letters or fewer allow one missing or extra
  // letter ("sed" → "seed") but no substitution ("tpu" is not a typo of "cpu")
  const short = folded.length <= 3;
  const limit = Math.max(1, Math.floor(folded.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of known) {
    const fc = foldName(c);
    const dist = short && fc.length === folded.length ? Infinity : editDistance(folded, fc);
    const prefix = !short && fc.length >= 3 && (fc.startsWith(folded) || folded.startsWith(fc));
    const score = prefix ? Math.min(dist, limit) : dist;
    // ties go to the candidate of the closest length ("relu7" → "relu6", not "relu")
    const tieBreak = Math.abs(fc.length - folded.length) / 1000;
    if (score <= limit && score + tieBreak < bestDistance) {
      best = c;
      bestDistance = score + tieBreak;
    }
  }
  return best;
}

/** `; did you mean "elu"?` for messages, or "" when no known name is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const s = closestName(name, candidates);
  return s === undefined ? "" : `; did you mean ${JSON.stringify(s)}?`;
}
