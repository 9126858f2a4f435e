/**
 * Saving and loading models: bit-identical predictions after a round trip, every activation recorded with
 * its package, version and every parameter, a missing plugin named by its package, and corrupt, truncated or
 * mismatched files refused with a SerializationError that leaves nothing half-built.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { smoothFamily } from "@neurite/activations-smooth";
import {
  type ModelJSON, type SavedModel, type Sequential, SerializationError, activations, adam, loadModel, loadModelFromDir, memory,
  saveModel, saveModelToDir, sequential, tensor, use, uniform,
} from "@neurite/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

let model: Sequential;
let saved: SavedModel;
const X = () => uniform([7, 3], { min: -2, max: 2, seed: 9 });

beforeAll(async () => {
  await setupCpu();
  model = sequential([
    { type: "dense", units: 8, activation: "relu", inputShape: [3] },
    { type: "dense", units: 6, activation: { name: "leakyRelu", alpha: 0.2 } },
    { type: "layerNormalization" },
    { type: "dense", units: 5, activation: { name: "gelu", approximate: "tanh" } },
    { type: "dense", units: 4, activation: "prelu" },
    { type: "dropout", rate: 0.1 },
    { type: "dense", units: 3, activation: "softmax" },
  ], { seed: 4, name: "roundtrip" });
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy" });
  const x = X();
  const y = tensor([0, 1, 2, 0, 1, 2, 0]);
  await model.fit(x, y, { epochs: 5, batchSize: 4 });
  x.dispose();
  y.dispose();
  saved = saveModel(model);
});

afterAll(() => model.dispose());

function predictions(m: Sequential): Float32Array {
  const x = X();
  const p = m.predict(x);
  const v = Float32Array.from(p.dataSync());
  p.dispose();
  x.dispose();
  return v;
}

/** A deep copy of the JSON half, to tamper with: without its checksum, so each edit reaches the check it names. */
const jsonCopy = (): ModelJSON => {
  const json = JSON.parse(JSON.stringify(saved.json)) as { -readonly [K in keyof ModelJSON]: ModelJSON[K] };
  delete json.jsonCrc32;
  return json;
};

describe("save and load", () => {
  it("reproduces predictions bit for bit, and every weight", () => {
    const loaded = loadModel(saved);
    expect(predictions(loaded)).toEqual(predictions(model));
    expect(loaded.weights.map((w) => w.name)).toEqual(model.weights.map((w) => w.name));
    loaded.weights.forEach((w, i) => expect(w.dataSync()).toEqual(model.weights[i]!.dataSync()));
    expect(loaded.name).toBe("roundtrip");
    loaded.dispose();
  });

  it("survives JSON text and a copied buffer (what files and the network hand back)", () => {
    const loaded = loadModel({ json: JSON.parse(JSON.stringify(saved.json)) as unknown, weights: new Uint8Array(saved.weights.slice(0)) });
    expect(predictions(loaded)).toEqual(predictions(model));
    loaded.dispose();
  });

  it("records every activation as {package, name, version, params} with every parameter written out", () => {
    const { layers } = JSON.parse(JSON.stringify(saved.json)) as { layers: { type: string; package: string; config: Record<string, unknown> }[] };
    const recorded = layers.filter((l) => l.type === "dense").map((l) => (l.config.activation as { $activation: unknown }).$activation);
    expect(recorded).toEqual([
      { package: "@neurite/activations-relu", name: "relu", version: "0.1.0", params: { gradAtZero: 0 } },
      { package: "@neurite/activations-relu", name: "leakyRelu", version: "0.1.0", params: { alpha: 0.2 } },
      { package: "@neurite/activations-smooth", name: "gelu", version: "0.1.0", params: { approximate: "tanh" } },
      { package: "@neurite/activations-relu", name: "prelu", version: "0.1.0", params: { alpha: 0.25 } },
      { package: "@neurite/activations-softmax", name: "softmax", version: "0.1.0", params: { axis: -1, temperature: 1 } },
    ]);
    for (const r of recorded as { name: string; params: object }[]) {
      expect(Object.keys(r.params).sort()).toEqual(Object.keys(activations.get(r.name).params).sort());
    }
    expect(layers.map((l) => l.package)).toEqual(Array(7).fill("@neurite/core"));
  });

  it("names the package to install when an activation is not registered, and builds nothing", () => {
    const before = memory().tensors;
    activations.unregister("gelu");
    try {
      expect(() => loadModel(saved)).toThrow(/@neurite\/activations-smooth/);
    } finally {
      use(smoothFamily, { replace: true });
    }
    expect(memory().tensors).toBe(before);
  });

  it("refuses a corrupt, truncated or mismatched file with a SerializationError, leaving no tensor behind", () => {
    const before = memory().tensors;
    const flipped = new Uint8Array(saved.weights.slice(0));
    flipped[17]! ^= 0x40;
    // same number of values, another shape: only the architecture can tell
    const shapes: ModelJSON = { ...jsonCopy(), weights: jsonCopy().weights.map((w, i) => (i === 0 ? { ...w, shape: [8, 3] } : w)) };
    const extraLayer = jsonCopy();
    (extraLayer.layers as unknown[]).push({ type: "dense", package: "@neurite/core", version: "0.1.0", config: { units: 2, activation: { $activation: { package: "@neurite/core", name: "linear", version: "0.1.0", params: {} } }, useBias: true, kernelInitializer: "glorotUniform", biasInitializer: "zeros" } });
    const cases: [string, () => unknown, RegExp][] = [
      ["a flipped bit", () => loadModel({ json: saved.json, weights: flipped }), /checksum/],
      ["a truncated buffer", () => loadModel({ json: saved.json, weights: saved.weights.slice(0, saved.weights.byteLength - 12) }), /truncated|bytes/],
      ["an empty buffer", () => loadModel({ json: saved.json, weights: new ArrayBuffer(0) }), /bytes/],
      ["a weight of another shape", () => loadModel({ json: shapes, weights: saved.weights }), /shape/],
      ["one layer too many", () => loadModel({ json: extraLayer, weights: saved.weights }), /weights/],
      ["not a model", () => loadModel({ json: { hello: 1 }, weights: saved.weights }), /not a Neurite model/],
      ["a future format version", () => loadModel({ json: { ...jsonCopy(), formatVersion: 99 }, weights: saved.weights }), /version 99/],
    ];
    for (const [what, load, message] of cases) {
      let error: unknown;
      try {
        load();
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(SerializationError);
      expect((error as Error).message, what).toMatch(message);
      expect(memory().tensors, what).toBe(before);
    }
  });

  it("saves to and loads from a directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "neurite-model-"));
    try {
      saveModelToDir(model, dir);
      const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as ModelJSON;
      expect(json.format).toBe("neurite-model");
      expect(readFileSync(join(dir, "weights.bin")).byteLength).toBe(json.weightsByteLength);
      const loaded = loadModelFromDir(dir);
      expect(predictions(loaded)).toEqual(predictions(model));
      loaded.dispose();
      writeFileSync(join(dir, "model.json"), "{ not json");
      const before = memory().tensors;
      expect(() => loadModelFromDir(dir)).toThrow(SerializationError);
      expect(memory().tensors).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
