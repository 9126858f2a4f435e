import { ArgumentError, fmtValue } from "../errors.js";
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

/**
 * Creates initial weights. Variance-scaling initializers follow PyTorch/Keras: glorot (Xavier) uses
 * fanIn + fanOut, he (Kaiming) and lecun use fanIn; the normal variants are plain (not truncated) normals.
 */
export function initialize(spec: InitializerSpec, shape: readonly number[], seed: number): Tensor {
  if (typeof spec === "function") return spec(shape, seed);
  const c = (typeof spec === "string" ? { name: spec } : spec) as InitializerConfig;
  if (!c || !NAMES.includes(c.name)) throw new ArgumentError(`initializer must be one of ${NAMES.join(", ")} (or a function), got ${fmtValue(spec)}`);
  const { fanIn, fanOut } = fans(shape);
  switch (c.name) {
    case "zeros": return fill(shape, 0);
    case "ones": return fill(shape, 1);
    case "constant":
      if (typeof c.value !== "number") throw new ArgumentError(`initializer constant needs a numeric value, got ${fmtValue(c.value)}`);
      return fill(shape, c.value);
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

/** Validates an initializer spec without creating anything (for layer configs). */
export function checkInitializer(spec: unknown, field: string): InitializerSpec {
  if (typeof spec === "function") return spec as InitializerSpec;
  const name = typeof spec === "string" ? spec : (spec as { name?: unknown } | undefined)?.name;
  if (!NAMES.includes(name as InitializerName)) throw new ArgumentError(`${field} must be one of ${NAMES.join(", ")} (or a function), got ${fmtValue(spec)}`);
  return spec as InitializerSpec;
}
