import { sharedState } from "../process-state.js";
import type { BoundActivation } from "../activation/contract.js";
import { deserializeActivation, serializeActivation } from "../activation/registry.js";
import { NeuriteError, SerializationError, fmtShape } from "../errors.js";
import type { LayerPlugin } from "../layer/contract.js";
import type { LayerSpec } from "../layer/spec.js";
import { layers as layerRegistry } from "../layer/registry.js";
import { Sequential, type WeightSource } from "../model/sequential.js";
import { fromValues } from "../ops/create.js";
import { type PluginIdentity, versionChange } from "../registry/registry.js";
import { boolean, field, integer, readOptions } from "../validation/options.js";
import {
  DEFAULT_MAX_MODEL_BYTES, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelJSON, crc32, fail, isRecord, jsonChecksum, preview, validateModelJSON,
} from "./model-schema.js";

export { MODEL_FORMAT, MODEL_FORMAT_VERSION, DEFAULT_MAX_MODEL_BYTES, crc32, type LayerRecord, type ModelJSON } from "./model-schema.js";

/** A saved model: JSON plus the weights as one binary buffer. */
export interface SavedModel {
  readonly json: ModelJSON;
  readonly weights: ArrayBuffer;
}

const ACTIVATION_KEY = "$activation";

/** Config → JSON: activations become `{ "$activation": { package, name, version, params } }`. */
function encodeConfig(value: unknown): unknown {
  if (value && typeof value === "object") {
    if ((value as BoundActivation).kind === "bound-activation") return { [ACTIVATION_KEY]: serializeActivation(value as BoundActivation) };
    if (Array.isArray(value)) return value.map(encodeConfig);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeConfig(v)]));
  }
  if (typeof value === "function") throw new NeuriteError("cannot save a model whose config holds a function (a custom initializer?); use a named one");
  return value;
}

/** Serializes a built model: every layer's full config (every activation parameter written out) and its weights. */
export function saveModel(model: Sequential): SavedModel {
  if (!model.built) throw new NeuriteError(`${model.name}: build the model (or train it) before saving; its weights do not exist yet`);
  const weights = model.weights;
  const total = weights.reduce((s, w) => s + w.size, 0);
  const buffer = new Float32Array(total);
  let at = 0;
  for (const w of weights) {
    buffer.set(w.dataSync(), at);
    at += w.size;
  }
  const bytes = new Uint8Array(buffer.buffer);
  const json: Omit<ModelJSON, "jsonCrc32"> = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    name: model.name,
    seed: model.seed,
    inputShape: [...model.inputShape!],
    layers: model.layers.map((l) => ({ type: l.plugin.name, package: l.plugin.package, version: l.plugin.version, config: encodeConfig(l.config) as Record<string, unknown> })),
    weights: weights.map((w) => ({ name: w.name, shape: [...w.shape] })),
    weightsByteLength: bytes.byteLength,
    weightsCrc32: crc32(bytes),
  };
  return { json: { ...json, jsonCrc32: jsonChecksum(json) }, weights: buffer.buffer };
}

/** Options of {@link loadModel} and {@link loadModelFromDir}. */
export interface LoadModelOptions {
  /**
   * The most bytes of weights the file may declare; default {@link DEFAULT_MAX_MODEL_BYTES} (256 MiB). A
   * larger file is refused before anything is allocated: raise the cap for a file you trust.
   */
  readonly maxBytes?: number;
  /**
   * Load even where a plugin's registered version is incompatible with the recorded one (another major
   * version, see {@link VersionChange}) or comes from another package: the mismatch becomes a warning.
   * The model then runs the registered plugin, which may compute something else.
   */
  readonly allowVersionMismatch?: boolean;
  /**
   * Receives each warning (a plugin registered under a newer or older compatible version, or an allowed
   * mismatch), once per plugin and version pair per load. Default: `console.warn`, once per pair per process.
   */
  readonly onWarning?: (message: string) => void;
}

const LOAD_OPTIONS = {
  maxBytes: integer(1),
  allowVersionMismatch: boolean,
  onWarning: field<(message: string) => void>("a function (message) => void", (v) => typeof v === "function"),
};

/** Warnings `console.warn` has shown in this process, so each shows once. */
const shownWarnings = sharedState("shown-warnings", () => new Set<string>());

function defaultWarn(message: string): void {
  if (shownWarnings.has(message)) return;
  shownWarnings.add(message);
  console.warn(message);
}

/** Compares what the file recorded for a plugin with the registered plugin; collects warnings, throws mismatches. */
function checkIdentity(kind: string, recorded: PluginIdentity, registered: PluginIdentity, allowMismatch: boolean, warnings: Set<string>): void {
  const was = `${recorded.package}@${recorded.version}`;
  const now = `${registered.package}@${registered.version}`;
  const change = recorded.package !== registered.package ? "package" : versionChange(recorded.version, registered.version);
  if (change === "same" || change === "patch") return;
  const subject = `${kind} "${recorded.name}"`;
  if (change === "minor") {
    warnings.add(`loadModel: ${subject} was saved with ${was}; the registered ${now} is a compatible ${isNewer(registered.version, recorded.version) ? "newer" : "older"} version, whose results may differ slightly`);
    return;
  }
  const why =
    change === "package"
      ? `the file's ${subject} comes from ${recorded.package}, but the registered one comes from ${registered.package}`
      : `${subject} was saved with version ${recorded.version} (${recorded.package}) but version ${registered.version} is registered, an incompatible version (major change; in 0.x a minor change)`;
  if (!allowMismatch) fail(`${why}; install ${was} and register it with use(...), or pass { allowVersionMismatch: true } to load it with ${now} anyway`);
  warnings.add(`loadModel: ${why}; loaded anyway (allowVersionMismatch)`);
}

/** Whether semver `a` has a higher major.minor.patch than `b`. */
function isNewer(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split(/[-+]/)[0]!.split(".").map(Number));
  const i = [0, 1, 2].find((k) => x![k] !== y![k]);
  return i !== undefined && x![i]! > y![i]!;
}

/** File config → layer config: each `$activation` record resolved through the registry, versions checked. */
function decodeConfig(value: unknown, check: (recorded: PluginIdentity, registered: PluginIdentity) => void): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeConfig(v, check));
  if (!isRecord(value)) return value;
  if (Object.prototype.hasOwnProperty.call(value, ACTIVATION_KEY)) {
    if (Object.keys(value).length !== 1) fail(`an activation record must be { "${ACTIVATION_KEY}": {...} } alone, got keys [${Object.keys(value).join(", ")}]`);
    const record = value[ACTIVATION_KEY];
    const bound = deserializeActivation(record);
    check(record as PluginIdentity, bound.plugin);
    return bound;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeConfig(v, check)]));
}

/** Any failure while rebuilding a checked file is a SerializationError that keeps the original message and cause. */
function asSerializationError(e: unknown): SerializationError {
  if (e instanceof SerializationError) return e;
  const inner = e instanceof Error ? `${e instanceof NeuriteError ? "" : `${e.name}: `}${e.message}` : String(e);
  const error = new SerializationError(`cannot load model: ${inner}`);
  (error as { cause?: unknown }).cause = e;
  return error;
}

function payloadBytes(weights: unknown): Uint8Array {
  if (weights instanceof ArrayBuffer) return new Uint8Array(weights);
  if (ArrayBuffer.isView(weights)) return new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength);
  return fail(`the weights must be an ArrayBuffer or a typed array (Uint8Array, Buffer), got ${preview(weights)}`);
}

function parseJSON(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return fail(`${where} is not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
}

/**
 * Rebuilds a model from {@link saveModel}'s output (`json` as an object or as its JSON text). The file is
 * untrusted: the whole of it is checked before anything is created (schema, every shape against the
 * payload's length and `maxBytes`, both checksums), plugins are only ever looked up by name in the
 * registries with their recorded package and version compared (see {@link LoadModelOptions}), and every
 * weight is created straight from the file's values, never initialised first. Any problem with the file is
 * a {@link SerializationError} (a bad option an ArgumentError), and a failure leaves nothing allocated.
 */
export function loadModel(saved: SavedModel | { readonly json: unknown; readonly weights: ArrayBuffer | ArrayBufferView }, options: LoadModelOptions = {}): Sequential {
  const opts = readOptions("loadModel options", options, LOAD_OPTIONS);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  let bytes: Uint8Array;
  let json: ModelJSON;
  try {
    if (!isRecord(saved)) fail(`expected a saved model { json, weights } as saveModel returns it, got ${preview(saved)}`);
    bytes = payloadBytes(saved.weights);
    const given = saved.json;
    json = validateModelJSON(typeof given === "string" ? parseJSON(given, "the json half") : given, bytes.byteLength, maxBytes);
    if (crc32(bytes) !== json.weightsCrc32) fail("the weights' checksum does not match (the file is corrupt)");
  } catch (e) {
    // a getter or proxy of the caller's that throws is a bad file too, not a raw TypeError
    throw asSerializationError(e);
  }

  const warnings = new Set<string>();
  const allow = opts.allowVersionMismatch ?? false;
  let specs: LayerSpec[];
  try {
    specs = json.layers.map((l) => {
      if (!layerRegistry.has(l.type)) fail(layerRegistry.unknownMessage(l.type, l.package));
      const plugin: LayerPlugin = layerRegistry.get(l.type);
      checkIdentity("layer", { name: l.type, package: l.package, version: l.version }, plugin, allow, warnings);
      const config = decodeConfig(l.config, (recorded, registered) => checkIdentity("activation", recorded, registered, allow, warnings)) as object;
      // the resolved plugin object, last: a "type" key in the file's config cannot pick another layer
      return { ...config, type: plugin };
    });
  } catch (e) {
    throw asSerializationError(e);
  }

  // every weight comes from the file, checked against the shape the layer asks for before it is allocated
  let next = 0;
  let offset = 0;
  const source: WeightSource = ({ layer, name, shape }) => {
    const spec = json.weights[next];
    const wanted = `${layer}/${name}`;
    if (!spec) fail(`the architecture makes weight ${wanted} ${fmtShape(shape)}, but the file holds only ${json.weights.length} weights`);
    if (spec.name !== wanted || spec.shape.length !== shape.length || spec.shape.some((d, k) => d !== shape[k])) {
      fail(`the file's weight ${next} is ${spec.name} with shape ${fmtShape(spec.shape)}, but the architecture makes ${wanted} with shape ${fmtShape(shape)}`);
    }
    const size = spec.shape.reduce((a, b) => a * b, 1);
    // a copy, aligned for Float32Array whatever the payload's offset
    const values = new Float32Array(bytes.slice(offset, offset + 4 * size).buffer);
    offset += 4 * size;
    next++;
    return fromValues(values, spec.shape);
  };
  let model: Sequential | undefined;
  try {
    model = new Sequential(specs, { seed: json.seed, name: json.name }, source);
    model.build(json.inputShape);
    const built = model.inputShape!;
    if (built.length !== json.inputShape.length || built.some((d, i) => d !== json.inputShape[i])) {
      fail(`inputShape is ${fmtShape(json.inputShape)} but the first layer's config says ${fmtShape(built)}`);
    }
    if (next !== json.weights.length) fail(`the file has ${json.weights.length} weights; the architecture makes ${next}`);
  } catch (e) {
    model?.dispose();
    throw asSerializationError(e);
  }
  const warn = opts.onWarning ?? defaultWarn;
  try {
    for (const w of warnings) warn(w);
  } catch (e) {
    model.dispose(); // an onWarning that throws refuses the model: it must not leak
    throw e;
  }
  return model;
}

interface NodeFs {
  writeFileSync(path: string, data: string | Uint8Array): void;
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: "utf8"): string;
  mkdirSync(path: string, options: { recursive: boolean }): void;
  statSync(path: string, options: { throwIfNoEntry: false }): { isFile(): boolean; isDirectory(): boolean; size: number } | undefined;
}

function nodeFs(): NodeFs {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
  if (!fs) throw new NeuriteError("saving to files needs Node (>= 20.16); in browsers use saveModel() and store its json and weights yourself");
  return fs;
}

/** Writes `model.json` and `weights.bin` into `dir` (Node). */
export function saveModelToDir(model: Sequential, dir: string): void {
  const fs = nodeFs();
  const { json, weights } = saveModel(model);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/weights.bin`, new Uint8Array(weights));
  fs.writeFileSync(`${dir}/model.json`, JSON.stringify(json, null, 2));
}

/**
 * Loads a model written by {@link saveModelToDir} (Node), with {@link loadModel}'s checks and options. A file
 * larger than `maxBytes` (and a model.json larger than that) is refused before it is read.
 */
export function loadModelFromDir(dir: string, options: LoadModelOptions = {}): Sequential {
  const fs = nodeFs();
  const maxBytes = readOptions("loadModelFromDir options", options, LOAD_OPTIONS).maxBytes ?? DEFAULT_MAX_MODEL_BYTES;
  if (typeof dir !== "string") fail(`loadModelFromDir needs a directory path, got ${preview(dir)}`);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) fail(`no model at ${dir}: the directory does not exist`);
  const read = (file: string, maxSize: number): Uint8Array => {
    const path = `${dir}/${file}`;
    const stat = fs.statSync(path, { throwIfNoEntry: false });
    if (!stat?.isFile()) fail(`${path} is missing (a saved model is a directory with model.json and weights.bin, as saveModelToDir writes)`);
    if (stat.size > maxSize) fail(`${path} holds ${stat.size} bytes, more than the cap of ${maxSize} bytes; if you trust it, raise the cap: loadModelFromDir(dir, { maxBytes })`);
    try {
      return fs.readFileSync(path);
    } catch (e) {
      return fail(`${path} cannot be read (${(e as Error).message})`);
    }
  };
  const text = new TextDecoder("utf-8", { fatal: false }).decode(read("model.json", maxBytes));
  const weights = read("weights.bin", maxBytes);
  return loadModel({ json: parseJSON(text, `${dir}/model.json`), weights }, options);
}
