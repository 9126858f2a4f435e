import { ArgumentError, NeuriteError } from "../errors.js";
import { type OptionSchema, checkValue, describeValue, finiteNumber, readOptions } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";
import { fill, normal, uniform } from "../ops/create.js";
import type { Tensor } from "../tensor/tensor.js";

/** Initializer names and their options. */
export type InitializerConfig =
  | { readonly name: "zeros" | "ones" }
  | { readonly name: "constant"; readonly value: number }
  | { readonly name: "uniform"; readonly min?: number; readonly max?: number }
  | { readonly name: "normal"; readonly mean?: number; readonly std?: number }
  | { readonly name: "glorotUniform" | "glorotNormal" | "heUniform" | "heNormal" | "lecunNormal" | "lecunUniform" };

export type InitializerName = InitializerConfig["name"];

/** A name, a config, or a function of (shape, seed). */
export type InitializerSpec = InitializerName | InitializerConfig | ((shape: readonly number[], seed: number) => Tensor);

/** fan-in and fan-out of a weight: [in, out] for a Dense kernel; receptive field × channels for more axes. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

const NAMES: readonly InitializerName[] = ["zeros", "ones", "constant", "uniform", "normal", "glorotUniform", "glorotNormal", "heUniform", "heNormal", "lecunNormal", "lecunUniform"];

/** The options each initializer takes besides its name, checked by the shared options validator. */
const OPTIONS: Readonly<Record<InitializerName, OptionSchema>> = {
  zeros: {}, ones: {},
  constant: { value: finiteNumber() },
  uniform: { min: finiteNumber(), max: finiteNumber() },
  normal: { mean: finiteNumber(), std: finiteNumber({ min: 0 }) },
  glorotUniform: {}, glorotNormal: {}, heUniform: {}, heNormal: {}, lecunNormal: {}, lecunUniform: {},
};

const isName = (v: unknown): v is InitializerName => typeof v === "string" && NAMES.includes(v as InitializerName);

/**
 * Checks an initializer spec: a known name (with "did you mean" for a typo), only the options that
 * initializer takes, each finite and in range. Returns the config with its options (defaults filled later).
 */
function checkConfig(spec: unknown, field: string): InitializerConfig {
  try {
    return readConfig(spec, field);
  } catch (e) {
    if (e instanceof NeuriteError) throw e;
    // a getter or a Proxy trap that throws
    throw new ArgumentError(`${field}: the initializer config could not be read (${e instanceof Error ? e.message : typeof e}); pass a name or a plain object`);
  }
}

function readConfig(spec: unknown, field: string): InitializerConfig {
  const fail = (what: string): never => {
    throw new ArgumentError(`${field}: ${what}; initializers: ${NAMES.join(", ")} (or a function of (shape, seed))`);
  };
  if (typeof spec === "string") {
    if (!isName(spec)) fail(`unknown initializer ${JSON.stringify(spec)}${didYouMean(spec, NAMES)}`);
    spec = { name: spec };
  }
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return fail(`an initializer must be a name, { name, ...options } or a function, got ${describeValue(spec)}`);
  const name = Object.hasOwn(spec, "name") ? (spec as { name?: unknown }).name : undefined;
  if (typeof name !== "string") return fail(`an initializer config needs a name, got ${describeValue(spec)}`);
  if (!isName(name)) return fail(`unknown initializer ${JSON.stringify(name)}${didYouMean(name, NAMES)}`);
  const rest: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  delete rest.name;
  const options = readOptions(`${field} ${name}`, rest, OPTIONS[name]) as Record<string, number | undefined>;
  if (name === "constant" && options.value === undefined) checkValue(`${field} constant`, "value", undefined, finiteNumber());
  if (name === "uniform") {
    const min = options.min ?? -0.05;
    const max = options.max ?? 0.05;
    if (min > max) throw new ArgumentError(`${field} uniform: min must be <= max, got min=${min}, max=${max}`);
  }
  return { name, ...options } as InitializerConfig;
}

/**
 * Creates initial weights. Variance-scaling initializers follow PyTorch/Keras: glorot (Xavier) uses
 * fanIn + fanOut, he (Kaiming) and lecun use fanIn; the normal variants are plain (not truncated) normals.
 */
export function initialize(spec: InitializerSpec, shape: readonly number[], seed: number): Tensor {
  if (typeof spec === "function") return spec(shape, seed);
  const c = checkConfig(spec, "initializer");
  const { fanIn, fanOut } = fans(shape);
  switch (c.name) {
    case "zeros": return fill(shape, 0);
    case "ones": return fill(shape, 1);
    case "constant": return fill(shape, c.value);
    case "uniform": return uniform(shape, { min: c.min ?? -0.05, max: c.max ?? 0.05, seed });
    case "normal": return normal(shape, { mean: c.mean ?? 0, std: c.std ?? 0.05, seed });
    case "glorotUniform": { const l = Math.sqrt(6 / (fanIn + fanOut)); return uniform(shape, { min: -l, max: l, seed }); }
    case "glorotNormal": return normal(shape, { std: Math.sqrt(2 / (fanIn + fanOut)), seed });
    case "heUniform": { const l = Math.sqrt(6 / fanIn); return uniform(shape, { min: -l, max: l, seed }); }
    case "heNormal": return normal(shape, { std: Math.sqrt(2 / fanIn), seed });
    case "lecunUniform": { const l = Math.sqrt(3 / fanIn); return uniform(shape, { min: -l, max: l, seed }); }
    case "lecunNormal": return normal(shape, { std: Math.sqrt(1 / fanIn), seed });
  }
}

/** Validates an initializer spec without creating anything (for layer configs): name, options and values. */
export function checkInitializer(spec: unknown, field: string): InitializerSpec {
  if (typeof spec === "function") return spec as InitializerSpec;
  return checkConfig(spec, field);
}
