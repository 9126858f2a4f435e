/**
 * The playground's whole configuration, and its URL form: `encodeConfig` writes every field into a query
 * string, `decodeConfig` reads one back (checking each value and falling back to the default with a note), so a
 * link reproduces a run.
 */
import type { ParamValue } from "@neurite/core";
import { type AddedPoint, DATASETS, type DatasetName, type PointEdits } from "./data.js";

/** The activation "name" of a layer whose activation is a typed formula. */
export const FORMULA = "formula";

export interface LayerConfig {
  readonly units: number;
  /** A registered activation's name, or {@link FORMULA}. */
  readonly activation: string;
  /** Parameters of a registered activation that differ from their defaults. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** The formula (in `parseFormula`'s syntax) when `activation` is {@link FORMULA}; it always parses. */
  readonly formula: string;
}

export const OPTIMIZERS = ["sgd", "momentum", "adam"] as const;
export type OptimizerChoice = (typeof OPTIMIZERS)[number];
/** The output layer for classification: one sigmoid unit (binary cross-entropy) or two softmax units. */
export const OUTPUTS = ["sigmoid", "softmax"] as const;
export type OutputChoice = (typeof OUTPUTS)[number];

export interface PlaygroundConfig {
  readonly dataset: DatasetName;
  /** Number of generated points. */
  readonly samples: number;
  /** 0 … 0.5. */
  readonly noise: number;
  /** Fraction of points used for training, 0.1 … 0.9. */
  readonly trainFraction: number;
  readonly layers: readonly LayerConfig[];
  readonly output: OutputChoice;
  readonly optimizer: OptimizerChoice;
  readonly lr: number;
  readonly batchSize: number;
  /** L2 penalty (the optimizer's weightDecay). */
  readonly l2: number;
  readonly seed: number;
  /** Threads asked of the wasm backend (it falls back to 1 where the page is not cross-origin isolated). */
  readonly threads: number;
  readonly edits: PointEdits;
}

export const LIMITS = {
  // 8 × 32 as the issue asks, and up to 10 layers so that the "sigmoid × 10" preset fits
  layers: { min: 1, max: 10 },
  units: { min: 1, max: 32 },
  samples: { min: 50, max: 1000 },
  noise: { min: 0, max: 0.5 },
  trainFraction: { min: 0.1, max: 0.9 },
  lr: { min: 1e-5, max: 10 },
  batchSize: { min: 1, max: 500 },
  l2: { min: 0, max: 1 },
  seed: { min: 0, max: 2 ** 31 - 1 },
  threads: { min: 1, max: 8 },
  addedPoints: 500,
  formulaLength: 500,
} as const;

export const DEFAULT_CONFIG: PlaygroundConfig = {
  dataset: "spiral",
  samples: 400,
  noise: 0,
  trainFraction: 0.5,
  layers: [
    { units: 16, activation: "relu", params: {}, formula: "" },
    { units: 16, activation: "relu", params: {}, formula: "" },
    { units: 16, activation: "relu", params: {}, formula: "" },
  ],
  output: "sigmoid",
  optimizer: "adam",
  lr: 0.01,
  batchSize: 10,
  l2: 0,
  seed: 1,
  threads: 2,
  edits: { added: [], removed: [] },
};

/** A layer as the URL writes it: [units, activation] with the changed parameters, or [units, "=" + formula]. */
type LayerTuple = [number, string] | [number, string, Record<string, ParamValue>];

function layerTuple(l: LayerConfig): LayerTuple {
  if (l.activation === FORMULA) return [l.units, `=${l.formula}`];
  return Object.keys(l.params).length ? [l.units, l.activation, { ...l.params }] : [l.units, l.activation];
}

/** Rounds for the URL: drawn points to 0.01, which is below a pixel of the heat map. */
const round2 = (v: number) => Math.round(v * 100) / 100;

/** The configuration as a query string (without "?"), every field written. */
export function encodeConfig(c: PlaygroundConfig): string {
  const q = new URLSearchParams();
  q.set("data", c.dataset);
  q.set("n", String(c.samples));
  q.set("noise", String(c.noise));
  q.set("train", String(c.trainFraction));
  q.set("layers", JSON.stringify(c.layers.map(layerTuple)));
  q.set("out", c.output);
  q.set("opt", c.optimizer);
  q.set("lr", String(c.lr));
  q.set("batch", String(c.batchSize));
  q.set("l2", String(c.l2));
  q.set("seed", String(c.seed));
  q.set("threads", String(c.threads));
  if (c.edits.added.length) q.set("add", JSON.stringify(c.edits.added.map((p) => [round2(p.x), round2(p.y), round2(p.label)])));
  if (c.edits.removed.length) q.set("rm", c.edits.removed.join(","));
  return q.toString();
}

export interface DecodeOptions {
  /** Whether an activation name is registered (unknown ones fall back to the default's and are reported). */
  readonly isActivation: (name: string) => boolean;
  /** Whether a formula parses (a layer whose formula does not is reported and falls back). */
  readonly formulaError?: (formula: string) => string | undefined;
}

export interface Decoded {
  readonly config: PlaygroundConfig;
  /** What was in the URL but could not be used, each with what was used instead. */
  readonly problems: string[];
}

/** Reads a query string written by {@link encodeConfig}; missing fields take their defaults. */
export function decodeConfig(search: string, options: DecodeOptions): Decoded {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  const d = DEFAULT_CONFIG;

  const num = (key: string, fallback: number, lim: { min: number; max: number }, integer = false): number => {
    const raw = q.get(key);
    if (raw === null) return fallback;
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v) || v < lim.min || v > lim.max || (integer && !Number.isInteger(v))) {
      problems.push(`${key}=${raw} is not ${integer ? "an integer" : "a number"} in [${lim.min}, ${lim.max}]; using ${fallback}`);
      return fallback;
    }
    return v;
  };
  const choice = <T extends string>(key: string, choices: readonly T[], fallback: T): T => {
    const raw = q.get(key);
    if (raw === null) return fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${key}=${raw} is not one of ${choices.join(", ")}; using ${fallback}`);
    return fallback;
  };

  return {
    config: {
      dataset: choice("data", DATASETS, d.dataset),
      samples: num("n", d.samples, LIMITS.samples, true),
      noise: num("noise", d.noise, LIMITS.noise),
      trainFraction: num("train", d.trainFraction, LIMITS.trainFraction),
      layers: decodeLayers(q.get("layers"), options, problems),
      output: choice("out", OUTPUTS, d.output),
      optimizer: choice("opt", OPTIMIZERS, d.optimizer),
      lr: num("lr", d.lr, LIMITS.lr),
      batchSize: num("batch", d.batchSize, LIMITS.batchSize, true),
      l2: num("l2", d.l2, LIMITS.l2),
      seed: num("seed", d.seed, LIMITS.seed, true),
      threads: num("threads", d.threads, LIMITS.threads, true),
      edits: { added: decodeAdded(q.get("add"), problems), removed: decodeRemoved(q.get("rm"), problems) },
    },
    problems,
  };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function decodeLayers(raw: string | null, options: DecodeOptions, problems: string[]): LayerConfig[] {
  if (raw === null) return [...DEFAULT_CONFIG.layers];
  const list = parseJson(raw);
  if (!Array.isArray(list) || list.length < LIMITS.layers.min || list.length > LIMITS.layers.max) {
    problems.push(`layers=${raw} is not a list of ${LIMITS.layers.min} to ${LIMITS.layers.max} layers; using the default network`);
    return [...DEFAULT_CONFIG.layers];
  }
  return list.map((item, i) => decodeLayer(item, i, options, problems));
}

function decodeLayer(item: unknown, i: number, options: DecodeOptions, problems: string[]): LayerConfig {
  const fallback: LayerConfig = { units: 8, activation: "relu", params: {}, formula: "" };
  const where = `layer ${i + 1}`;
  if (!Array.isArray(item) || item.length < 2 || item.length > 3) {
    problems.push(`${where}: ${JSON.stringify(item)} is not [units, activation, params?]; using 8 relu units`);
    return fallback;
  }
  const [units, act, params] = item as unknown[];
  let u = 8;
  if (typeof units === "number" && Number.isInteger(units) && units >= LIMITS.units.min && units <= LIMITS.units.max) u = units;
  else problems.push(`${where}: units ${JSON.stringify(units)} is not an integer in [${LIMITS.units.min}, ${LIMITS.units.max}]; using 8`);
  if (typeof act !== "string") {
    problems.push(`${where}: activation ${JSON.stringify(act)} is not a name; using relu`);
    return { ...fallback, units: u };
  }
  if (act.startsWith("=")) {
    const formula = act.slice(1);
    const error = formula.length > LIMITS.formulaLength ? `longer than ${LIMITS.formulaLength} characters` : options.formulaError?.(formula);
    if (error !== undefined) {
      problems.push(`${where}: formula ${JSON.stringify(formula)} does not parse (${error.split("\n")[0]}); using relu`);
      return { ...fallback, units: u };
    }
    return { units: u, activation: FORMULA, params: {}, formula };
  }
  if (!options.isActivation(act)) {
    problems.push(`${where}: activation "${act}" is not registered; using relu`);
    return { ...fallback, units: u };
  }
  const ok = params === undefined || (params !== null && typeof params === "object" && !Array.isArray(params) &&
    Object.values(params).every((v) => ["number", "string", "boolean"].includes(typeof v)));
  if (!ok) problems.push(`${where}: parameters ${JSON.stringify(params)} are not { name: value }; using the defaults`);
  return { units: u, activation: act, params: ok && params ? (params as Record<string, ParamValue>) : {}, formula: "" };
}

function decodeAdded(raw: string | null, problems: string[]): AddedPoint[] {
  if (raw === null) return [];
  const list = parseJson(raw);
  const valid = Array.isArray(list) && list.length <= LIMITS.addedPoints &&
    list.every((p) => Array.isArray(p) && p.length === 3 && p.every((v) => typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= 6));
  if (!valid) {
    problems.push(`add=${raw.slice(0, 60)} is not a list of at most ${LIMITS.addedPoints} [x, y, label] points in [−6, 6]; ignoring the drawn points`);
    return [];
  }
  return (list as [number, number, number][]).map(([x, y, label]) => ({ x, y, label }));
}

function decodeRemoved(raw: string | null, problems: string[]): number[] {
  if (raw === null || raw === "") return [];
  const items = raw.split(",").map(Number);
  if (items.length > LIMITS.samples.max || !items.every((v) => Number.isInteger(v) && v >= 0 && v < LIMITS.samples.max)) {
    problems.push(`rm=${raw.slice(0, 60)} is not a list of point indices; ignoring the erased points`);
    return [];
  }
  return [...new Set(items)].sort((a, b) => a - b);
}
