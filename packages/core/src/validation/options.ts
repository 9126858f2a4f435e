/**
 * One validator for every options object a user passes (fit, evaluate, predict, compile, optimizers, losses,
 * initializers, callbacks): known keys only, with "did you mean" for the others, and each value checked
 * against its field (positive integers where counts are meant, finite numbers, booleans, choices).
 * Only own properties are read, each once, so prototype keys, `Object.create(null)` objects and getters that
 * throw all give an {@link ArgumentError} instead of a wrong answer or a raw TypeError.
 */
import { ArgumentError, NeuriteError, fmtValue } from "../errors.js";
import { didYouMean } from "./suggest.js";

/** How one option is checked: a predicate and the words for what it expects ("a positive integer"). */
export interface Field<T> {
  readonly expected: string;
  accepts(value: unknown): value is T;
}

/** The value type a {@link Field} accepts. */
export type FieldValue<F> = F extends Field<infer T> ? T : never;

/** Option names and their fields. */
export type OptionSchema = Readonly<Record<string, Field<unknown>>>;

/** The checked options: every key optional (absent or `undefined` means "use the default"). */
export type CheckedOptions<S extends OptionSchema> = { -readonly [K in keyof S]?: FieldValue<S[K]> };

/** A field from a predicate. */
export function field<T>(expected: string, accepts: (value: unknown) => boolean): Field<T> {
  return { expected, accepts: accepts as (value: unknown) => value is T };
}

/** A safe integer in [min, max]: counts, sizes, seeds. Huge values are refused, not rounded. */
export function integer(min = 1, max = Number.MAX_SAFE_INTEGER): Field<number> {
  const expected =
    max === Number.MAX_SAFE_INTEGER
      ? min === 1 ? "a positive integer" : min === 0 ? "a non-negative integer" : `an integer >= ${min}`
      : `an integer in [${min}, ${max}]`;
  return field(expected, (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max);
}

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** Refuse `min` itself. */
  readonly minExclusive?: boolean;
  /** Refuse `max` itself. */
  readonly maxExclusive?: boolean;
  /** The words for the range in messages; default from the bounds. */
  readonly expected?: string;
}

/** A finite number, optionally within a range. NaN and ±Infinity are always refused. */
export function finiteNumber(range: NumberRange = {}): Field<number> {
  const { min = -Infinity, max = Infinity, minExclusive = false, maxExclusive = false } = range;
  const lower = min === -Infinity ? "" : minExclusive ? `> ${min}` : `>= ${min}`;
  const upper = max === Infinity ? "" : maxExclusive ? `< ${max}` : `<= ${max}`;
  const bounds = lower && upper ? `in ${minExclusive ? "(" : "["}${min}, ${max}${maxExclusive ? ")" : "]"}` : lower || upper;
  const expected = range.expected ?? (bounds ? `a finite number ${bounds}` : "a finite number");
  return field(expected, (v) => typeof v === "number" && Number.isFinite(v) && (minExclusive ? v > min : v >= min) && (maxExclusive ? v < max : v <= max));
}

/** `true` or `false` (not a truthy string). */
export const boolean: Field<boolean> = field("true or false", (v) => typeof v === "boolean");

/** A non-empty string. */
export const nonEmptyString: Field<string> = field("a non-empty string", (v) => typeof v === "string" && v.length > 0);

/** One of a fixed set of strings. */
export function oneOf<const C extends readonly string[]>(choices: C): Field<C[number]> {
  return field(`one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`, (v) => typeof v === "string" && choices.includes(v));
}

/** A value for messages: short (a huge array is cut), never throwing, −0 written as −0. */
export function describeValue(value: unknown): string {
  if (Object.is(value, -0)) return "-0";
  if (typeof value === "function") return "a function";
  if (Array.isArray(value) && value.length > 16) return `an array of ${value.length} elements`;
  let s: string;
  try {
    s = fmtValue(value);
  } catch {
    s = typeof value;
  }
  if (typeof value === "object" && value !== null && s === "{}" && Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
    const ctor: unknown = (value as { constructor?: unknown }).constructor;
    const className: unknown = typeof ctor === "function" ? ctor.name : undefined;
    s = `an instance of ${typeof className === "string" && className ? className : "a class"}`;
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return typeof e;
  }
}

/** Throws an {@link ArgumentError} `where: name must be expected, got value`; returns the value when it fits. */
export function checkValue<T>(where: string, name: string, value: unknown, f: Field<T>): T {
  if (!f.accepts(value)) throw new ArgumentError(`${where}: ${name} must be ${f.expected}, got ${describeValue(value)}`);
  return value;
}

/** Whether `value` is an object whose keys can be named options (not an array, a function, a tensor…). */
function isOptionsObject(value: unknown): value is object {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an options object against `schema` and returns the given options (absent ones left out).
 * Refuses a non-object, an unknown key (naming the closest known one and every known one) and any value
 * its field does not accept. `undefined` values count as absent.
 *
 * @param where the call, for messages ("fit", "sgd").
 */
export function readOptions<S extends OptionSchema>(where: string, options: unknown, schema: S): CheckedOptions<S> {
  const known = Object.keys(schema);
  const listed = known.length ? `${where} takes: ${known.join(", ")}` : `${where} takes no options`;
  if (options === undefined) return {};
  if (!isOptionsObject(options)) {
    throw new ArgumentError(`${where}: options must be a plain object such as { ${known[0] ?? "name"}: … } (${listed}), got ${describeValue(options)}`);
  }
  const out: Record<string, unknown> = {};
  try {
    for (const key of Reflect.ownKeys(options)) {
      if (typeof key === "symbol") continue;
      if (!Object.hasOwn(schema, key)) {
        throw new ArgumentError(`${where}: unknown option ${describeValue(key)}${didYouMean(key, known)} (${listed})`);
      }
      const value: unknown = (options as Record<string, unknown>)[key];
      if (value !== undefined) out[key] = checkValue(where, key, value, schema[key]!);
    }
  } catch (e) {
    if (e instanceof NeuriteError) throw e;
    // a getter or a Proxy trap that throws: say which call could not read its options
    throw new ArgumentError(`${where}: the options object could not be read (${messageOf(e)}); pass a plain object of values`);
  }
  return out as CheckedOptions<S>;
}
