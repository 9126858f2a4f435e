import type { BoundActivation, SerializedActivation } from "../activation/contract.js";
import { deserializeActivation, serializeActivation } from "../activation/registry.js";
import { NeuriteError, SerializationError, fmtShape } from "../errors.js";
import type { LayerSpec } from "../layer/contract.js";
import { layers as layerRegistry } from "../layer/registry.js";
import { Sequential } from "../model/sequential.js";
import { fromValues } from "../ops/create.js";
import { sizeOf } from "../tensor/shape.js";

export const MODEL_FORMAT = "neurite-model";
export const MODEL_FORMAT_VERSION = 1;

/** The JSON half of a saved model: architecture, every config, and where each weight is in the binary half. */
export interface ModelJSON {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly name: string;
  readonly seed: number;
  readonly inputShape: readonly number[];
  readonly layers: readonly {
    readonly type: string;
    readonly package: string;
    readonly version: string;
    readonly config: unknown;
  }[];
  /** Weights in order, float32 little-endian, back to back in the binary half. */
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly weightsByteLength: number;
  /** CRC-32 of the binary half, to detect corruption. */
  readonly weightsCrc32: number;
}

/** A saved model: JSON plus the weights as one binary buffer. */
export interface SavedModel {
  readonly json: ModelJSON;
  readonly weights: ArrayBuffer;
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

const ACTIVATION_KEY = "$activation";

/** Config → JSON: activations become `{ "$activation": { package, name, version, params } }`. */
function encodeConfig(value: unknown): unknown {
  if (value && typeof value === "object") {
    if ((value as BoundActivation).kind === "bound-activation") return { [ACTIVATION_KEY]: serializeActivation(value as BoundActivation) };
    if (Array.isArray(value)) return value.map(encodeConfig);
    if (typeof value === "function") throw new NeuriteError("cannot save a model whose config holds a function (a custom initializer?); use a named one");
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeConfig(v)]));
  }
  if (typeof value === "function") throw new NeuriteError("cannot save a model whose config holds a function (a custom initializer?); use a named one");
  return value;
}

function decodeConfig(value: unknown): unknown {
  if (value && typeof value === "object") {
    if (ACTIVATION_KEY in value) return deserializeActivation((value as Record<string, SerializedActivation>)[ACTIVATION_KEY]!);
    if (Array.isArray(value)) return value.map(decodeConfig);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeConfig(v)]));
  }
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
  const json: ModelJSON = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    name: model.name,
    seed: model.seed,
    inputShape: [...model.inputShape!],
    layers: model.layers.map((l) => ({ type: l.plugin.name, package: l.plugin.package, version: l.plugin.version, config: encodeConfig(l.config) })),
    weights: weights.map((w) => ({ name: w.name, shape: [...w.shape] })),
    weightsByteLength: bytes.byteLength,
    weightsCrc32: crc32(bytes),
  };
  return { json, weights: buffer.buffer };
}

function fail(message: string): never {
  throw new SerializationError(`cannot load model: ${message}`);
}

/**
 * Rebuilds a model from {@link saveModel}'s output. Checks the format, every plugin (an unregistered one names
 * its package), sizes and the checksum before creating anything; a failure leaves nothing half-built.
 */
export function loadModel(saved: SavedModel | { json: unknown; weights: ArrayBuffer | ArrayBufferView }): Sequential {
  const json = saved.json as ModelJSON;
  if (!json || typeof json !== "object" || json.format !== MODEL_FORMAT) fail(`not a Neurite model (format ${JSON.stringify((json as { format?: unknown })?.format)})`);
  if (json.formatVersion !== MODEL_FORMAT_VERSION) fail(`format version ${json.formatVersion} is not supported (this is version ${MODEL_FORMAT_VERSION})`);
  if (![json.layers, json.weights, json.inputShape].every((v: unknown) => Array.isArray(v))) fail("layers, weights or inputShape is missing");
  const raw = saved.weights;
  const bytes = raw instanceof ArrayBuffer ? new Uint8Array(raw) : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const expected = json.weights.reduce((s, w) => s + sizeOf(w.shape) * 4, 0);
  if (bytes.byteLength !== json.weightsByteLength || bytes.byteLength !== expected) {
    fail(`the weights hold ${bytes.byteLength} bytes; the model describes ${expected} (truncated or mismatched file?)`);
  }
  if (crc32(bytes) !== json.weightsCrc32) fail("the weights' checksum does not match (the file is corrupt)");
  for (const l of json.layers) {
    if (!layerRegistry.has(l.type)) throw new SerializationError(`cannot load model: ${layerRegistry.unknownMessage(l.type, l.package)}`);
  }
  let specs: LayerSpec[];
  try {
    specs = json.layers.map((l) => ({ type: l.type, ...(decodeConfig(l.config) as object) }) as LayerSpec);
  } catch (e) {
    // an activation nobody registered, or invalid parameters: same error kind as any other bad file
    throw new SerializationError(`cannot load model: ${(e as Error).message}`);
  }
  const model = new Sequential(specs, { seed: json.seed, name: json.name });
  try {
    model.build(json.inputShape);
    const weights = model.weights;
    if (weights.length !== json.weights.length) fail(`the file has ${json.weights.length} weights; the architecture makes ${weights.length}`);
    const values = new Float32Array(bytes.slice().buffer);
    let at = 0;
    weights.forEach((w, i) => {
      const spec = json.weights[i]!;
      if (sizeOf(spec.shape) !== w.size || spec.shape.length !== w.shape.length || spec.shape.some((d, k) => d !== w.shape[k])) {
        fail(`weight ${spec.name} has shape ${fmtShape(spec.shape)} in the file but ${fmtShape(w.shape)} in the architecture`);
      }
      const t = fromValues(values.subarray(at, at + w.size), w.shape);
      w.assign(t);
      t.dispose();
      at += w.size;
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

interface NodeFs {
  writeFileSync(path: string, data: string | Uint8Array): void;
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: "utf8"): string;
  mkdirSync(path: string, options: { recursive: boolean }): void;
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

/** Loads a model written by {@link saveModelToDir} (Node). */
export function loadModelFromDir(dir: string): Sequential {
  const fs = nodeFs();
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(`${dir}/model.json`, "utf8"));
  } catch (e) {
    fail(`${dir}/model.json is not readable JSON (${(e as Error).message})`);
  }
  return loadModel({ json, weights: fs.readFileSync(`${dir}/weights.bin`) });
}
