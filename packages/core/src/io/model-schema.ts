/**
 * The model file's JSON half as untrusted data: its schema, checked in full before anything is created, the
 * safe-integer size of every weight against the payload and the caller's cap, and the checksums.
 * Nothing here allocates more than the file's own size.
 */
import { SerializationError } from "../errors.js";
import { isSemver } from "../registry/registry.js";

export const MODEL_FORMAT = "neurite-model";
export const MODEL_FORMAT_VERSION = 1;

/**
 * The default of `loadModel`'s `maxBytes`: 256 MiB of weights (64 million float32 values). A file that
 * declares more is refused before anything is read into tensors; raise the cap for a file you trust.
 */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 2 ** 20;

/** Deepest nesting of objects and arrays a model file may have (saved models use 5 levels). */
export const MAX_JSON_DEPTH = 32;

/** One layer of a saved model: the plugin by name, package and version, and its full config. */
export interface LayerRecord {
  readonly type: string;
  readonly package: string;
  readonly version: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** The JSON half of a saved model: architecture, every config, and where each weight is in the binary half. */
export interface ModelJSON {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly name: string;
  readonly seed: number;
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerRecord[];
  /** Weights in order, float32 little-endian, back to back in the binary half. */
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly weightsByteLength: number;
  /** CRC-32 of the binary half, to detect corruption. */
  readonly weightsCrc32: number;
  /**
   * CRC-32 of every other field of this JSON half, written canonically (see {@link jsonChecksum}): a file
   * edited or corrupted after saving is refused. `saveModel` always writes it; a hand-written file may omit it.
   */
  readonly jsonCrc32?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** JSON text with object keys sorted at every level: the same data always gives the same text. */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonicalJSON(record[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The {@link ModelJSON.jsonCrc32} of a JSON half: CRC-32 of the UTF-8 of its canonical text without that field. */
export function jsonChecksum(json: object): number {
  const rest: Record<string, unknown> = { ...json };
  delete rest.jsonCrc32;
  return crc32(new TextEncoder().encode(canonicalJSON(rest)));
}

export function fail(message: string): never {
  throw new SerializationError(`cannot load model: ${message}`);
}

/** A value for a message, short whatever its size (a file may hold megabytes in one string). */
export function preview(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  else if (typeof value === "number" || typeof value === "boolean" || value == null) text = String(value);
  else if (typeof value === "function") text = "a function";
  else if (Array.isArray(value)) text = `an array of ${value.length}`;
  else if (typeof value === "object") text = `an object with keys [${Object.keys(value).slice(0, 6).join(", ")}${Object.keys(value).length > 6 ? ", …" : ""}]`;
  else text = typeof value;
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

const typeName = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/** A plain object (what JSON.parse makes), not an array, class instance or function. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A fresh copy of `value` that is pure JSON data (null, booleans, finite numbers, strings, arrays and plain
 * objects, at most {@link MAX_JSON_DEPTH} deep), reading each property once: no function, class instance,
 * getter or proxy of the caller's can act after this check. Objects with a `kind` are refused: that is how
 * plugin objects are told apart, and a file refers to plugins by name only.
 */
function copyData(value: unknown, path: string, depth: number): unknown {
  if (depth > MAX_JSON_DEPTH) fail(`${path} is nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) fail(`${path} is ${value}; a model file holds finite numbers only`);
    return value;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(copyData(value[i], `${path}[${i}]`, depth + 1));
    return out;
  }
  if (!isRecord(value)) fail(`${path} is ${typeName(value)} (${preview(value)}), which JSON cannot hold`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "kind") {
      fail(
        `${path} is an object with kind ${preview(v)}: a model file refers to plugins by name only ` +
          `(an activation as { "$activation": { package, name, version, params } }), never as the plugin itself`,
      );
    }
    // defineProperty: a "__proto__" key stays a plain key, as JSON.parse makes it
    Object.defineProperty(out, k, { value: copyData(v, `${path}.${k}`, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function expectKeys(value: Record<string, unknown>, path: string, required: readonly string[], optional: readonly string[] = []): void {
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(value, k)) fail(`${path} has no "${k}" (its keys: ${Object.keys(value).join(", ") || "none"})`);
  for (const k of Object.keys(value)) {
    if (!required.includes(k) && !optional.includes(k)) fail(`${path} has an unknown key ${preview(k)} (expected ${[...required, ...optional].join(", ")})`);
  }
}

function expectString(value: unknown, path: string): string {
  if (typeof value !== "string") fail(`${path} must be a string, got ${typeName(value)} (${preview(value)})`);
  return value;
}

function expectUint32(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    fail(`${path} must be an integer in [0, 2^32), got ${typeName(value)} (${preview(value)})`);
  }
  return value;
}

/** A shape: an array of non-negative safe integers (positive where `positive`). */
function expectShape(value: unknown, path: string, positive: boolean): number[] {
  const least = positive ? 1 : 0;
  if (!Array.isArray(value) || value.some((d) => typeof d !== "number" || !Number.isSafeInteger(d) || d < least)) {
    fail(`${path} must be an array of ${positive ? "positive" : "non-negative"} integers, got ${preview(value)}`);
  }
  return value as number[];
}

/** Elements of a shape, or Infinity once the product is past the safe integers (no rounding ever reaches a size). */
function safeElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return Infinity;
  }
  return n;
}

const bytesText = (n: number): string => (Number.isFinite(n) ? `${n} bytes (${(n / 2 ** 20).toFixed(1)} MiB)` : "more than 2^53 bytes");

/**
 * Checks a parsed JSON half completely, without creating anything: the schema, every value's type, every
 * weight's size in safe integers, the total against `maxBytes` and against `payloadBytes`, and the JSON
 * checksum where present. Throws a {@link SerializationError} naming the field, the value and the fix.
 */
export function validateModelJSON(given: unknown, payloadBytes: number, maxBytes: number): ModelJSON {
  if (!isRecord(given)) fail(`the json half must be an object as saveModel writes it, got ${typeName(given)} (${preview(given)})`);
  const json = copyData(given, "the model", 0) as Record<string, unknown>;
  if (json.format !== MODEL_FORMAT) fail(`not a Neurite model (format ${preview(json.format)}; expected "${MODEL_FORMAT}")`);
  const fv = json.formatVersion;
  if (typeof fv !== "number") {
    fail(`formatVersion must be the number ${MODEL_FORMAT_VERSION}, got ${typeName(fv)} (${preview(fv)}); was the file edited by hand?`);
  }
  if (fv !== MODEL_FORMAT_VERSION) {
    fail(`format version ${fv} is not supported: this @neurite/core reads version ${MODEL_FORMAT_VERSION}${fv > MODEL_FORMAT_VERSION ? "; upgrade @neurite/core to load it" : ""}`);
  }
  expectKeys(json, "the model", ["format", "formatVersion", "name", "seed", "inputShape", "layers", "weights", "weightsByteLength", "weightsCrc32"], ["jsonCrc32"]);
  expectString(json.name, "name");
  if (typeof json.seed !== "number") fail(`seed must be a number, got ${typeName(json.seed)} (${preview(json.seed)})`);
  expectShape(json.inputShape, "inputShape", true);
  if ((json.inputShape as number[]).length === 0) fail("inputShape must have at least one axis");
  if (!Array.isArray(json.layers) || json.layers.length === 0) fail(`layers must be a non-empty array, got ${preview(json.layers)}`);
  json.layers.forEach((l: unknown, i) => {
    const path = `layers[${i}]`;
    if (!isRecord(l)) fail(`${path} must be an object, got ${preview(l)}`);
    expectKeys(l, path, ["type", "package", "version", "config"]);
    expectString(l.type, `${path}.type`);
    expectString(l.package, `${path}.package`);
    if (!isSemver(l.version)) fail(`${path}.version must be a semver version such as "1.0.0", got ${preview(l.version)}`);
    if (!isRecord(l.config)) fail(`${path}.config must be an object, got ${preview(l.config)}`);
  });
  if (!Array.isArray(json.weights)) fail(`weights must be an array, got ${typeName(json.weights)} (${preview(json.weights)})`);
  let declared = 0;
  json.weights.forEach((w: unknown, i) => {
    const path = `weights[${i}]`;
    if (!isRecord(w)) fail(`${path} must be { name, shape }, got ${preview(w)}`);
    expectKeys(w, path, ["name", "shape"]);
    expectString(w.name, `${path}.name`);
    declared += 4 * safeElements(expectShape(w.shape, `${path}.shape`, false));
  });
  if (!Number.isSafeInteger(declared) || declared > maxBytes) {
    fail(
      `the file declares ${bytesText(declared)} of weights, more than the cap of ${maxBytes} bytes; ` +
        "if you trust this file, raise the cap: loadModel(saved, { maxBytes })",
    );
  }
  const byteLength = json.weightsByteLength;
  if (typeof byteLength !== "number" || !Number.isSafeInteger(byteLength) || byteLength < 0) fail(`weightsByteLength must be a non-negative integer, got ${preview(byteLength)}`);
  if (payloadBytes !== byteLength || payloadBytes !== declared) {
    fail(`the weights hold ${payloadBytes} bytes; the file describes ${declared} (weightsByteLength ${byteLength}): truncated or mismatched file?`);
  }
  expectUint32(json.weightsCrc32, "weightsCrc32");
  if (json.jsonCrc32 !== undefined && expectUint32(json.jsonCrc32, "jsonCrc32") !== jsonChecksum(json)) {
    fail("the JSON half's checksum (jsonCrc32) does not match: the file is corrupt or was edited after saving (delete jsonCrc32 to load a file you edited on purpose)");
  }
  return json as unknown as ModelJSON; // a checked copy: later reads see exactly what was checked
}
