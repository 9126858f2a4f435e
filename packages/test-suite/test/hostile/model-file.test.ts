/**
 * A model file is untrusted input: the specific hostile files of issue 11 §6 and the model-file rows of §9.
 * Every refusal is a SerializationError (ArgumentError for a bad option) that creates no tensor: the backend's
 * allocator is watched, not only the live-tensor count.
 */
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import {
  ArgumentError, type ModelJSON, type SavedModel, type Sequential, SerializationError, activations, defineActivation, defineLayer,
  getBackend, layers, loadModel, loadModelFromDir, memory, saveModel, saveModelToDir, sequential, uniform, use,
} from "@neurite/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { forEachBackend } from "../../src/backends.js";

use(reluFamily, sigmoidFamily);

/** Deep copy of a saved model's JSON without its checksum, as an attacker (or a hand edit) would write it. */
function editable(saved: SavedModel): Record<string, unknown> & { layers: { type: string; package: string; version: string; config: Record<string, unknown> }[]; weights: { name: string; shape: number[] }[] } {
  const json = JSON.parse(JSON.stringify(saved.json)) as Record<string, unknown>;
  delete json.jsonCrc32;
  return json as never;
}

/** Runs `load`, expecting it to throw `kind`; asserts that nothing was allocated, even briefly. Returns the error. */
function refused(load: () => unknown, kind: new (...a: never[]) => Error = SerializationError): Error {
  const before = memory();
  const backend = getBackend();
  const alloc = vi.spyOn(backend, "alloc");
  const upload = vi.spyOn(backend, "upload");
  let error: unknown;
  try {
    load();
  } catch (e) {
    error = e;
  }
  const allocations = alloc.mock.calls.length + upload.mock.calls.length;
  alloc.mockRestore();
  upload.mockRestore();
  expect(error).toBeInstanceOf(kind);
  expect(allocations).toBe(0);
  expect(memory().tensors).toBe(before.tensors);
  expect(memory().bytes).toBe(before.bytes);
  return error as Error;
}

function predictions(m: Sequential): Float32Array {
  const x = uniform([5, 3], { min: -2, max: 2, seed: 3 });
  const p = m.predict(x);
  const v = Float32Array.from(p.dataSync());
  p.dispose();
  x.dispose();
  return v;
}

/** A test activation whose formula depends on `scale`, so that two "versions" predict differently. */
const myAct = (version: string, scale: number) =>
  defineActivation({
    name: "myAct", family: "custom", package: "my-app", version, description: `${scale}·x`, params: {},
    meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
    formula: (x) => x.mul(scale),
  });

const scaleLayer = (version: string) =>
  defineLayer<{ units: number; inputShape?: readonly number[] }>({
    name: "scaleLayer", package: "my-app", version, description: "x·2",
    configure: (c) => ({ units: 1, ...(c.inputShape ? { inputShape: c.inputShape as number[] } : {}) }),
    build: (_config, inputShape, ctx) => {
      const w = ctx.addWeight("w", [1], "ones");
      return { outputShape: inputShape, call: (x) => x.mul(w) };
    },
  });

forEachBackend("hostile model files", () => {
  afterEach(() => {
    activations.unregister("myAct");
    layers.unregister("scaleLayer");
    vi.restoreAllMocks();
  });

  const small = (): { model: Sequential; saved: SavedModel } => {
    const model = sequential([
      { type: "dense", units: 4, activation: { name: "leakyRelu", alpha: 0.2 }, inputShape: [3] },
      { type: "dense", units: 2, activation: "sigmoid" },
    ], { seed: 2 });
    return { model, saved: saveModel(model) };
  };

  it("refuses a tiny file declaring a 16384→16384 dense layer, naming the size and the cap, creating no tensor", () => {
    const { model, saved } = small();
    const json = editable(saved);
    json.inputShape = [16384];
    json.layers = [{ type: "dense", package: "@neurite/core", version: "0.1.0", config: { units: 16384, inputShape: [16384], useBias: true, kernelInitializer: "glorotUniform", biasInitializer: "zeros" } }];
    json.weights = [{ name: "dense1/kernel", shape: [16384, 16384] }, { name: "dense1/bias", shape: [16384] }];
    json.weightsByteLength = (16384 * 16384 + 16384) * 4;
    expect(JSON.stringify(json).length).toBeLessThan(600);
    const e = refused(() => loadModel({ json, weights: new ArrayBuffer(0) }));
    expect(e.message).toContain("1073807360");
    expect(e.message).toMatch(/maxBytes/);
    expect(e.message).toContain(String(256 * 2 ** 20));
    // raising the cap does not help a file whose payload is not there
    const raised = refused(() => loadModel({ json, weights: new ArrayBuffer(0) }, { maxBytes: 2 ** 31 }));
    expect(raised.message).toMatch(/0 bytes/);
    model.dispose();
  });

  it("does not build a layer whose weights the file does not hold: the shapes are checked before allocating", () => {
    const { model, saved } = small();
    // the file's weight list matches its payload, but the architecture asks for a 16384→16384 kernel
    const json = editable(saved);
    json.inputShape = [16384];
    json.layers[0]!.config = { ...json.layers[0]!.config, units: 16384, inputShape: [16384] };
    const e = refused(() => loadModel({ json, weights: saved.weights }));
    expect(e.message).toMatch(/16384/);
    model.dispose();
  });

  it("refuses an activation written into the file as a plugin object (only names resolve, through the registry)", () => {
    const { model, saved } = small();
    const ghost = { kind: "activation", type: "elementwise", name: "ghost", family: "x", package: "evil", version: "1.0.0", description: "", params: {}, meta: { range: [0, 1], monotonic: true, smoothAtZero: true } };
    for (const forged of [ghost, { kind: "bound-activation", plugin: ghost, params: {} }, myAct("1.0.0", 3)]) {
      const json = editable(saved);
      json.layers[0]!.config = { ...json.layers[0]!.config, activation: forged };
      const e = refused(() => loadModel({ json, weights: saved.weights }));
      expect(e.message).toMatch(/activation/);
    }
    // a $activation naming an unregistered plugin names it and its package
    const json = editable(saved);
    json.layers[0]!.config = { ...json.layers[0]!.config, activation: { $activation: { package: "evil", name: "ghost", version: "1.0.0", params: {} } } };
    expect(refused(() => loadModel({ json, weights: saved.weights })).message).toMatch(/"ghost".*evil/);
    model.dispose();
  });

  it("refuses a plugin recorded under another major version, naming both; allowVersionMismatch opts out", () => {
    use(myAct("1.0.0", 1));
    const model = sequential([{ type: "dense", units: 3, activation: "myAct" as never, inputShape: [3] }], { seed: 1 });
    const saved = saveModel(model);
    const original = predictions(model);
    use(myAct("2.0.0", 3), { replace: true });
    const e = refused(() => loadModel(saved));
    expect(e.message).toContain("1.0.0");
    expect(e.message).toContain("2.0.0");
    expect(e.message).toMatch(/allowVersionMismatch/);
    const warnings: string[] = [];
    const loaded = loadModel(saved, { allowVersionMismatch: true, onWarning: (w) => warnings.push(w) });
    // it loaded the weights, and runs the registered 2.0.0 formula, as the user asked
    const p = predictions(loaded);
    p.forEach((v, i) => expect(v).toBeCloseTo(3 * original[i]!, 5));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("2.0.0");
    loaded.dispose();
    model.dispose();
  });

  it("checks layer plugin versions too", () => {
    use(scaleLayer("1.2.0"));
    const model = sequential([{ type: "scaleLayer", inputShape: [3] } as never], { seed: 1 });
    const saved = saveModel(model);
    use(scaleLayer("2.0.0"), { replace: true });
    expect(refused(() => loadModel(saved)).message).toMatch(/1\.2\.0.*2\.0\.0|2\.0\.0.*1\.2\.0/);
    // 0.x: a minor change is breaking (npm's caret rule)
    use(scaleLayer("0.1.0"), { replace: true });
    const m0 = sequential([{ type: "scaleLayer", inputShape: [3] } as never], { seed: 1 });
    const s0 = saveModel(m0);
    use(scaleLayer("0.2.0"), { replace: true });
    expect(refused(() => loadModel(s0)).message).toMatch(/0\.1\.0/);
    use(scaleLayer("0.1.3"), { replace: true });
    const warnings: string[] = [];
    loadModel(s0, { onWarning: (w) => warnings.push(w) }).dispose();
    expect(warnings).toHaveLength(1);
    m0.dispose();
    model.dispose();
  });

  it("warns once about a newer minor version, and loads a model that predicts the same", () => {
    use(myAct("1.0.0", 1));
    const model = sequential([
      { type: "dense", units: 3, activation: "myAct" as never, inputShape: [3] },
      { type: "dense", units: 3, activation: "myAct" as never },
    ], { seed: 1 });
    const saved = saveModel(model);
    use(myAct("1.1.0", 1), { replace: true });
    const warnings: string[] = [];
    const loaded = loadModel(saved, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1); // two layers use it: one warning
    expect(warnings[0]).toMatch(/myAct.*1\.0\.0.*1\.1\.0/);
    expect(predictions(loaded)).toEqual(predictions(model));
    loaded.dispose();
    // without onWarning: console.warn, once per plugin and versions in the process
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    loadModel(saved).dispose();
    loadModel(saved).dispose();
    const mine = warn.mock.calls.filter((c) => String(c[0]).includes("myAct"));
    expect(mine.length).toBeLessThanOrEqual(1); // once per process: an earlier test file may have warned already
    use(myAct("1.0.0", 1), { replace: true });
    loadModel(saved, { onWarning: () => expect.unreachable("no warning for the recorded version") }).dispose();
    model.dispose();
  });

  it("refuses weights: null, a missing json and other non-files with a SerializationError", () => {
    const { model, saved } = small();
    const cases: unknown[] = [
      { json: saved.json, weights: null }, { json: saved.json }, { json: null, weights: saved.weights }, null, undefined, "model.json", 42,
      { json: saved.json, weights: [1, 2, 3] }, { json: saved.json, weights: "AAAA" },
    ];
    for (const c of cases) {
      const e = refused(() => loadModel(c as SavedModel));
      expect(e.message).toMatch(/weights|json|saved model/);
    }
    model.dispose();
  });

  it("refuses getters that throw, proxies and non-JSON values in a json object with a SerializationError", () => {
    const { model, saved } = small();
    const boom = (): never => {
      throw new TypeError("getter exploded");
    };
    const withGetter = editable(saved);
    Object.defineProperty(withGetter.layers[1]!.config, "units", { get: boom, enumerable: true });
    const nanUnits = editable(saved);
    nanUnits.layers[1]!.config.units = Number.NaN;
    const fnConfig = editable(saved);
    fnConfig.layers[1]!.config.kernelInitializer = () => 0;
    const cases: [string, unknown][] = [
      ["a getter deep in the config", { json: withGetter, weights: saved.weights }],
      ["a throwing json getter", Object.defineProperty({ weights: saved.weights }, "json", { get: boom, enumerable: true })],
      ["a proxy that throws", new Proxy({}, { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom })],
      ["NaN units", { json: nanUnits, weights: saved.weights }],
      ["a function as initializer", { json: fnConfig, weights: saved.weights }],
    ];
    for (const [what, file] of cases) {
      const e = refused(() => loadModel(file as SavedModel));
      expect(e.message, what).toMatch(/cannot load model/);
    }
    model.dispose();
  });

  it('names the type of formatVersion "1" (a string) instead of saying version 1 is not version 1', () => {
    const { model, saved } = small();
    const json = editable(saved);
    const ok = loadModel({ json, weights: saved.weights });
    ok.dispose();
    json.formatVersion = "1";
    const e = refused(() => loadModel({ json, weights: saved.weights }));
    expect(e.message).not.toMatch(/version 1 is not supported \(this is version 1\)/);
    expect(e.message).toMatch(/"1"/);
    expect(e.message).toMatch(/number/);
    model.dispose();
  });

  it("refuses a flipped byte in the weights (CRC) and a JSON half edited after saving (its checksum)", () => {
    const { model, saved } = small();
    const flipped = new Uint8Array(saved.weights.slice(0));
    flipped[5]! ^= 0x01;
    expect(refused(() => loadModel({ json: saved.json, weights: flipped })).message).toMatch(/checksum/);
    // alpha 0.2 → 0.3 is a valid model, but not the saved one
    const edited = JSON.parse(JSON.stringify(saved.json).replace('"alpha":0.2', '"alpha":0.3')) as ModelJSON;
    expect(JSON.stringify(edited)).toContain('"alpha":0.3');
    expect(refused(() => loadModel({ json: edited, weights: saved.weights })).message).toMatch(/checksum/);
    model.dispose();
  });

  it("validates its options", () => {
    const { model, saved } = small();
    for (const options of [{ maxBytes: -1 }, { maxBytes: Number.NaN }, { maxBytes: "1e9" }, { allowVersionMismatch: 1 }, { onWarning: "log" }, { maxbytes: 10 }]) {
      refused(() => loadModel(saved, options as never), ArgumentError);
    }
    model.dispose();
  });

  it("loadModelFromDir names a missing directory or file", () => {
    const { model } = small();
    const dir = mkdtempSync(join(tmpdir(), "neurite-hostile-"));
    try {
      refused(() => loadModelFromDir(join(dir, "nowhere")));
      saveModelToDir(model, dir);
      unlinkSync(join(dir, "weights.bin"));
      expect(refused(() => loadModelFromDir(dir)).message).toContain("weights.bin");
      saveModelToDir(model, dir);
      unlinkSync(join(dir, "model.json"));
      expect(refused(() => loadModelFromDir(dir)).message).toMatch(/model\.json.*(missing|does not exist|not found)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    model.dispose();
  });
});

describe("loading with no backend-specific state", () => {
  it("exports the documented default cap", async () => {
    const core = await import("@neurite/core");
    expect((core as { DEFAULT_MAX_MODEL_BYTES?: number }).DEFAULT_MAX_MODEL_BYTES).toBe(256 * 2 ** 20);
  });
});
