/**
 * The structure of MLP reference files (mlp.json's schema), as valibot schemas. Files are hostile input:
 * every problem is reported with its path inside the file and what to write instead; a field the schema
 * does not name is reported (never silently ignored) unless it is prose (notes, formulas in words) or
 * PyTorch's own informational numbers.
 */
import * as v from "valibot";
import { decodeArray, decodeNumber } from "@neurite/testkit";

export type Json = Record<string, unknown>;

export const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x);

/** A case this runner cannot check; its message says why, where in the file, and what to write instead. */
export class Unsupported extends Error {
  override name = "Unsupported";
}

/** Free-text fields (notes, formulas in words) carry no numbers to check. */
const PROSE_KEY = /(^|_)(note|notes|description|definition|comment|comments|doc|docs|update|formula|explanation|why|source|generator|init_note)$/i;
export const isProse = (key: string, value: unknown): boolean => typeof value === "string" && PROSE_KEY.test(key);

/** PyTorch's own float32 results and the generator's self-checks: informational, not reference values. */
const INFO_KEYS = new Set(["float32_torch", "self_check_max_abs_dev_numpy_vs_torch_optim", "float32_torch_max_abs_param_dev_over_steps"]);

// ---------------------------------------------------------------------------------------------------------
// Leaves (each message says what to write)

const positiveInt = (what: string) =>
  v.pipe(v.number(`${what} must be a number`), v.integer(`${what} must be a whole number`), v.minValue(1, `${what} must be at least 1`));
const optionalBool = (what: string) => v.optional(v.boolean(`${what} must be true or false`));
const nullishBool = (what: string) => v.nullish(v.boolean(`${what} must be true or false`));
const anyValue = v.optional(v.unknown());

// ---------------------------------------------------------------------------------------------------------
// Sections

/** `architecture.layers[i]`. */
export const LayerSchema = v.looseObject({
  name: v.optional(v.string("name must be a string")),
  units: positiveInt("units"),
  input_dim: v.optional(positiveInt("input_dim")),
  activation: anyValue,
  type: v.optional(v.picklist(["dense", "linear", "Dense", "Linear"], "type must be \"dense\" (only dense layers are known)")),
  use_bias: optionalBool("use_bias"),
  bias: optionalBool("bias"),
});

/** `architecture`: the layers, in order. */
export const ArchitectureSchema = v.looseObject({
  layers: v.pipe(v.array(v.unknown(), "layers must be a list of {units, activation, …}"), v.minLength(1, "layers must list at least one layer")),
  dense: anyValue,
});

/** `forward[j]`: one layer's values. */
export const ForwardSchema = v.looseObject({
  layer: v.optional(positiveInt("layer")),
  activation: anyValue,
  z_shape: v.optional(v.array(v.number(), "z_shape must be a list of sizes")),
  a_shape: v.optional(v.array(v.number(), "a_shape must be a list of sizes")),
  z: anyValue,
  a: anyValue,
  dL_dz: anyValue,
  dL_da: anyValue,
});

/** A number in the files' encoding (NaN, ±Infinity and −0 as strings). */
const refNumber = v.union([v.number(), v.picklist(["NaN", "Infinity", "-Infinity", "-0"])], "must be a number (or \"NaN\", \"Infinity\", \"-Infinity\", \"-0\")");

/** Per-parameter optimizer state a step records: the file's name → the optimizer's buffer name and tolerance class. */
export const STATE_FIELDS = {
  momentum_buffer_after: { key: "momentum", moment: "first" },
  adam_m_after: { key: "m", moment: "first" },
  exp_avg_after: { key: "m", moment: "first" },
  adam_v_after: { key: "v", moment: "second" },
  exp_avg_sq_after: { key: "v", moment: "second" },
  adam_vmax_after: { key: "vMax", moment: "second" },
  adam_v_max_after: { key: "vMax", moment: "second" },
  max_exp_avg_sq_after: { key: "vMax", moment: "second" },
  square_avg_after: { key: "squareAvg", moment: "second" },
  grad_avg_after: { key: "gradAvg", moment: "first" },
} as const satisfies Record<string, { key: string; moment: "first" | "second" }>;

/** `optimizers.KIND.steps[i]`. */
export const StepSchema = v.looseObject({
  step: positiveInt("step"),
  lr: v.optional(v.number("lr must be a number")),
  loss_before_step: v.optional(refNumber),
  loss_after_step: v.optional(refNumber),
  params_after: anyValue,
  ...Object.fromEntries(Object.keys(STATE_FIELDS).map((k) => [k, anyValue])),
});

/** `optimizers.KIND`. */
export const OptimizerSectionSchema = v.looseObject({
  hyper: v.optional(v.record(v.string(), v.unknown(), "hyper must be an object of hyper-parameters")),
  steps: v.array(v.unknown(), "steps must be a list of {step, params_after, …}"),
  loss_after_last_step: v.optional(refNumber),
});

/** PyTorch hyper-parameters this runner maps to core's optimizers. */
export const HyperSchema = v.looseObject({
  lr: v.nullish(v.number("lr must be a number")),
  momentum: v.nullish(v.number("momentum must be a number")),
  dampening: v.nullish(v.number("dampening must be a number")),
  nesterov: nullishBool("nesterov"),
  beta1: v.nullish(v.number("beta1 must be a number")),
  beta2: v.nullish(v.number("beta2 must be a number")),
  betas: v.nullish(v.tuple([v.number(), v.number()], "betas must be [beta1, beta2]")),
  eps: v.nullish(v.number("eps must be a number")),
  weight_decay: v.nullish(v.number("weight_decay must be a number")),
  amsgrad: nullishBool("amsgrad"),
  alpha: v.nullish(v.number("alpha must be a number")),
  centered: nullishBool("centered"),
});

/** The data a variant or network may hold (a variant's own overrides its network's). */
const DATA_ENTRIES = { architecture: anyValue, initial_params: anyValue, x: anyValue, labels: anyValue, onehot: anyValue, y: anyValue };

/** `NETWORK.variants.NAME`. */
export const VariantSchema = v.looseObject({
  ...DATA_ENTRIES,
  activations: v.optional(v.array(v.unknown(), "activations must be a list, one per layer")),
  loss_kind: anyValue,
  loss_definition: anyValue,
  forward: v.optional(v.array(v.unknown(), "forward must be a list of {layer, z, a, …}")),
  loss: v.optional(refNumber),
  grads: v.optional(v.record(v.string(), v.unknown(), "grads must be an object {W1: …, b1: …}")),
  optimizers: v.optional(v.record(v.string(), v.unknown(), "optimizers must be an object {sgd: …, adam: …}")),
});

/** A network section (`small_mlp` or another name): shared data and its variants. */
export const NetworkSchema = v.looseObject({
  ...DATA_ENTRIES,
  variants: v.record(v.string(), v.unknown(), "variants must be an object of named variants"),
});

/** `training_trajectories[i]`. */
export const TrajectorySchema = v.looseObject({
  name: v.optional(v.string("name must be a string")),
  dataset: v.optional(v.record(v.string(), v.unknown(), "dataset must be an object {x, y | labels | onehot}")),
  architecture: anyValue,
  activations: anyValue,
  initial_params: anyValue,
  optimizer: anyValue,
  loss_kind: anyValue,
  loss_definition: anyValue,
  checkpoints: anyValue,
});

// ---------------------------------------------------------------------------------------------------------
// Validation

type Section = v.LooseObjectSchema<v.ObjectEntries, undefined>;

/** One problem found in a section, with its path inside the file. */
export interface SchemaIssue {
  /** Where in the file, e.g. `small_mlp/architecture/layers[0]/units`. */
  readonly path: string;
  /** The key the problem is at (the section's own field), for case ids. */
  readonly key: string;
  /** What is wrong and what to write instead. */
  readonly message: string;
  /** Whether the field is unknown (rather than known with a wrong value). */
  readonly unknown: boolean;
}

function joinPath(base: string, keys: readonly unknown[]): string {
  return keys.reduce<string>((p, k) => (typeof k === "number" ? `${p}[${k}]` : `${p}/${String(k)}`), base);
}

/**
 * Validates one section: known fields against their schema, and every other field (not prose, not
 * informational) reported as unknown, with the known ones listed as the fix.
 */
export function sectionIssues(schema: Section, value: unknown, path: string): SchemaIssue[] {
  if (!isObj(value)) return [{ path, key: "", unknown: false, message: `${path} must be an object, got ${preview(value)}` }];
  const known = Object.keys(schema.entries);
  const issues: SchemaIssue[] = [];
  for (const [k, x] of Object.entries(value)) {
    if (k in schema.entries || isProse(k, x) || INFO_KEYS.has(k)) continue;
    issues.push({
      path: `${path}/${k}`, key: k, unknown: true,
      message: `unknown field ${k} at ${path}/${k}: this runner cannot check it; rename it to one of ${known.join(", ")}, or remove it`,
    });
  }
  const parsed = v.safeParse(schema, value, { abortEarly: false });
  for (const issue of parsed.issues ?? []) {
    const keys = (issue.path ?? []).map((p) => p.key);
    const where = joinPath(path, keys);
    const first = keys[0];
    issues.push({ path: where, key: typeof first === "string" || typeof first === "number" ? String(first) : "", unknown: false, message: `${where}: ${issue.message}, got ${issue.received}` });
  }
  return issues;
}

/** Throws the section's first non-unknown-field issue as {@link Unsupported}. */
export function requireValid(schema: Section, value: unknown, path: string): Json {
  const bad = sectionIssues(schema, value, path).find((i) => !i.unknown);
  if (bad) throw new Unsupported(bad.message);
  return value as Json;
}

export function preview(x: unknown): string {
  return JSON.stringify(x)?.slice(0, 80) ?? String(x);
}

// ---------------------------------------------------------------------------------------------------------
// Tensors

export interface RefTensor {
  readonly shape: number[];
  readonly values: number[];
}

function flattenNested(x: unknown, what: string): RefTensor {
  const shape: number[] = [];
  let probe: unknown = x;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (y: unknown, d: number, at: string): void => {
    if (d === shape.length) {
      try {
        values.push(decodeNumber(y));
      } catch {
        throw new Unsupported(`${what}${at}: ${preview(y)} is not a number; write a number, or "NaN", "Infinity", "-Infinity", "-0"`);
      }
      return;
    }
    if (!Array.isArray(y) || y.length !== shape[d]) throw new Unsupported(`${what}${at}: ragged nested array (expected ${shape[d]} entries at depth ${d}); every row must have the same length`);
    y.forEach((c, i) => walk(c, d + 1, `${at}[${i}]`));
  };
  walk(x, 0, "");
  return { shape, values };
}

/** A tensor written as `{shape, values}` (flat, row-major) or as a (nested) array. */
export function refTensor(x: unknown, what: string): RefTensor {
  if (isObj(x) && "values" in x) {
    let values: number[];
    try {
      values = decodeArray(x.values, `${what}/values`);
    } catch (e) {
      throw new Unsupported(`${what}/values: ${(e as Error).message}; write a list of numbers (or "NaN", "Infinity", "-Infinity", "-0")`);
    }
    const shape = x.shape === undefined ? [values.length] : x.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      throw new Unsupported(`${what}/shape is not a list of sizes: ${preview(shape)}; write e.g. [4, 3]`);
    }
    const dims = shape as number[];
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== values.length) throw new Unsupported(`${what}: shape [${dims.join(", ")}] holds ${size} values but ${values.length} are given; make shape and values agree`);
    return { shape: [...dims], values };
  }
  if (Array.isArray(x)) return flattenNested(x, what);
  throw new Unsupported(`${what} is not a tensor: ${preview(x)}; write {shape, values} or a (nested) list of numbers`);
}

/** Values of a named-parameter map entry: `{shape, values}` or a plain array. */
export function namedTensors(x: unknown, what: string): Map<string, RefTensor> {
  if (!isObj(x)) throw new Unsupported(`${what} is not an object of named tensors: ${preview(x)}; write {W1: …, b1: …}`);
  return new Map(Object.entries(x).map(([k, t]) => [k, refTensor(t, `${what}/${k}`)]));
}
