/**
 * Fuzzing saved models (issue 11 §6): seeded random mutations of real saved files (truncated or extended
 * payloads, flipped bytes in the weights and in the JSON text, JSON values changed in type or size, keys
 * removed or added, shapes enlarged, numbers replaced with huge, negative, non-finite or string values,
 * deep nesting) over several models. Each mutated file, as written, must either load a model whose
 * predictions are bit-identical to the original's or throw a SerializationError, creating nothing it keeps.
 *
 * A second pass "re-seals" each JSON mutation (recomputes jsonCrc32, as an attacker can), so that the schema
 * checks behind the checksum are exercised too: then a file may load a different but valid model, which
 * must run or fail with a NeuriteError, but every load still allocates no more than the file's payload.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import {
  type LayerSpec, NeuriteError, SerializationError, type Sequential, getBackend, loadModel, memory, saveModel, sequential, uniform, use,
} from "@neurite/core";
import { TestRng } from "@neurite/test-support";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { forEachBackend } from "../../src/backends.js";

use(reluFamily, sigmoidFamily, smoothFamily, softmaxFamily);

/** Mutations per model and backend; three models, two backends. */
const MUTATIONS = 700;

// ---- an independent implementation of the file's JSON checksum: CRC-32 (bitwise) of canonical JSON ----
function crc32Bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
function reseal(json: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...json };
  delete rest.jsonCrc32;
  return { ...rest, jsonCrc32: crc32Bitwise(new TextEncoder().encode(canonical(rest))) };
}

/** The models fuzzed: every built-in layer, parametrised (leakyRelu, prelu, gelu) and axis (softmax) activations. */
const MODELS: readonly { name: string; layers: LayerSpec[]; input: number[] }[] = [
  {
    name: "dense+layerNorm+dropout",
    input: [3],
    layers: [
      { type: "dense", units: 4, activation: { name: "leakyRelu", alpha: 0.2 }, inputShape: [3] },
      { type: "layerNormalization" },
      { type: "dropout", rate: 0.3 },
      { type: "dense", units: 3, activation: "prelu" },
      { type: "dense", units: 2, activation: "softmax" },
    ] as LayerSpec[],
  },
  {
    name: "flatten+elu+sigmoid",
    input: [2, 3],
    layers: [
      { type: "flatten", inputShape: [2, 3] },
      { type: "dense", units: 5, activation: { name: "elu", alpha: 0.7 } },
      { type: "dense", units: 2, activation: "sigmoid", useBias: false },
    ] as LayerSpec[],
  },
  {
    name: "gelu+activation layer",
    input: [3],
    layers: [
      { type: "dense", units: 6, activation: { name: "gelu", approximate: "tanh" }, inputShape: [3] },
      { type: "layerNormalization", center: false, epsilon: 1e-3 },
      { type: "activation", activation: "tanh" },
      { type: "dense", units: 3 },
    ] as LayerSpec[],
  },
];

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** Every path to a value in a JSON tree (the root excluded). */
function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  }
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let node = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  return node;
}

const DEEP = "\u0000deep";

/** A value of another type or size than JSON usually has there. */
function wildValue(r: TestRng, old: unknown, objectMode: boolean): unknown {
  const choices: (() => unknown)[] = [
    () => null, () => true, () => false, () => 0, () => -1, () => 1, () => 0.5, () => -0.5, () => 1e308, () => -1e308, () => 2 ** 53 + 2,
    () => 2 ** 31, () => 2 ** 32, () => 16384, () => 1e-320, () => "", () => "x", () => "1", () => "__proto__", () => "x".repeat(100_000),
    () => [], () => ({}), () => new Array<number>(50_000).fill(0), () => [16384, 16384], () => ({ kind: "activation", name: "ghost" }),
    () => ({ $activation: { package: "evil", name: "ghost", version: "1.0.0", params: {} } }), () => DEEP,
    () => (typeof old === "number" ? String(old) : typeof old === "string" && old !== "" && Number.isFinite(Number(old)) ? Number(old) : old),
    () => (typeof old === "number" ? old * 1_000_000 : 1_000_000), () => (typeof old === "number" ? -old : -7), () => (typeof old === "number" ? old + 1 : 2),
    () => (Array.isArray(old) ? Object.fromEntries(old.map((v, i) => [String(i), v])) : [old]),
  ];
  if (objectMode) choices.push(() => Number.NaN, () => Infinity, () => -Infinity, () => undefined, () => () => 0, () => new Date(0));
  return r.pick(choices)();
}

interface Mutant {
  readonly kind: string;
  /** The JSON half as text (what a file holds) or as an object (what a caller hands over). */
  readonly json: string | Json;
  readonly weights: Uint8Array;
  /** The mutated tree, for re-sealing, when the mutation was made on the parsed JSON. */
  readonly tree?: Json;
}

function mutate(r: TestRng, text: string, weights: Uint8Array): Mutant {
  const op = r.int(10);
  const copy = (): Uint8Array => weights.slice();
  switch (op) {
    case 0:
      return { kind: "payload truncated", json: text, weights: weights.slice(0, r.int(weights.length)) };
    case 1: {
      const w = new Uint8Array(weights.length + 1 + r.int(64));
      w.set(weights);
      return { kind: "payload extended", json: text, weights: w };
    }
    case 2: {
      const w = copy();
      w[r.int(w.length)]! ^= 1 + r.int(255);
      return { kind: "payload byte flipped", json: text, weights: w };
    }
    case 3:
      return { kind: "json truncated", json: text.slice(0, r.int(text.length)), weights };
    case 4: {
      const i = r.int(text.length);
      const c = String.fromCharCode(32 + r.int(95));
      const edit = r.pick(["replace", "insert", "delete"]);
      const t = edit === "replace" ? text.slice(0, i) + c + text.slice(i + 1) : edit === "insert" ? text.slice(0, i) + c + text.slice(i) : text.slice(0, i) + text.slice(i + 1);
      return { kind: `json byte ${edit}`, json: t, weights };
    }
    default: {
      // a structural change on the parsed tree
      const tree = JSON.parse(text) as Json;
      const all = paths(tree);
      const path = r.pick(all);
      const parent = parentOf(tree, path);
      const key = path[path.length - 1]!;
      const objectMode = r.next() < 0.3;
      const change = r.pick(["delete", "add", "replace", "replace", "replace", "duplicate"]);
      let kind = `json ${change}`;
      if (change === "delete") {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
      } else if (change === "add") {
        const target = parent[key] !== null && typeof parent[key] === "object" && !Array.isArray(parent[key]) ? (parent[key] as Json) : tree;
        const name = r.pick(["kind", "type", "__proto__", "constructor", "$activation", "extra", "units", "jsonCrc32", "toString"]);
        Object.defineProperty(target, name, { value: wildValue(r, undefined, objectMode), enumerable: true, writable: true, configurable: true });
        kind += ` ${name}`;
      } else if (change === "duplicate" && Array.isArray(parent)) {
        parent.splice(key as number, 0, structuredClone(parent[key]));
      } else {
        parent[key] = wildValue(r, parent[key], objectMode);
      }
      let json: string | Json = tree;
      if (!objectMode) {
        const depth = 10 + r.int(100_000);
        json = JSON.stringify(tree).replace(JSON.stringify(DEEP), "[".repeat(depth) + "]".repeat(depth));
        kind += " (text)";
      } else if (JSON.stringify(tree)?.includes(JSON.stringify(DEEP))) {
        let deep: unknown = 0;
        for (let i = 0; i < 200; i++) deep = [deep];
        json = JSON.parse(JSON.stringify(tree).replace(JSON.stringify(DEEP), "0")) as Json;
        json.name = deep;
      }
      return { kind, json, weights, tree: typeof json === "string" ? (JSON.parse(JSON.stringify(tree)) as Json) : json };
    }
  }
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const totals = { files: 0, identical: 0, refused: 0, other: 0, resealed: 0, resealedLoaded: 0, resealedRefused: 0 };

forEachBackend("model-file fuzz", (backend) => {
  const counts = { files: 0, identical: 0, refused: 0, other: 0, resealed: 0, resealedLoaded: 0, resealedRefused: 0 };
  const others: string[] = [];

  afterAll(() => {
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += counts[k];
    console.log(
      `model-file fuzz on ${backend}: ${counts.files} fuzzed files, ${counts.identical} loaded identically, ` +
        `${counts.refused} refused with SerializationError, ${counts.other} other; re-sealed: ${counts.resealed} files, ` +
        `${counts.resealedLoaded} loaded a valid model, ${counts.resealedRefused} refused`,
    );
  });

  let allocated = 0;
  beforeAll(() => {
    // count every byte the backend is asked for: a load may allocate at most its file's payload
    const b = getBackend();
    const alloc = b.alloc.bind(b);
    const upload = b.upload.bind(b);
    vi.spyOn(b, "alloc").mockImplementation((size: number) => ((allocated += 4 * size), alloc(size)));
    vi.spyOn(b, "upload").mockImplementation((values: Float32Array) => ((allocated += 4 * values.length), upload(values)));
  });
  afterAll(() => vi.restoreAllMocks());

  MODELS.forEach((spec, m) => {
    it(`every mutation of a saved "${spec.name}" loads identically or is refused with a SerializationError`, () => {
      const model = sequential(spec.layers, { seed: 11 + m }).build(spec.input);
      const saved = saveModel(model);
      const text = JSON.stringify(saved.json);
      const weights = new Uint8Array(saved.weights);
      const x = uniform([4, ...spec.input], { min: -3, max: 3, seed: 5 });
      const predict = (mdl: Sequential): Float32Array => {
        const p = mdl.predict(x);
        const v = Float32Array.from(p.dataSync());
        p.dispose();
        return v;
      };
      const reference = predict(model);
      const r = new TestRng(0x5eed0000 + 97 * m + (backend === "cpu" ? 0 : 1));

      /** One load: the outcome, with the checks every outcome shares. */
      const attempt = (mutant: { json: unknown; weights: Uint8Array }, what: string): "refused" | "other" | Sequential => {
        const before = memory();
        allocated = 0;
        let loaded: Sequential;
        try {
          loaded = loadModel({ json: mutant.json, weights: mutant.weights });
        } catch (e) {
          expect(allocated, `${what}: a refused load allocated ${allocated} bytes`).toBeLessThanOrEqual(mutant.weights.byteLength);
          if (!(e instanceof SerializationError)) {
            others.push(`${what}: ${String(e)}`);
            return "other";
          }
          expect(memory().tensors, `${what}: a refused load left tensors`).toBe(before.tensors);
          expect(memory().bytes, what).toBe(before.bytes);
          return "refused";
        }
        // what a load keeps and what it asked for are both bounded by the payload it was given
        expect(allocated, `${what}: allocated ${allocated} bytes`).toBeLessThanOrEqual(mutant.weights.byteLength);
        expect(memory().bytes - before.bytes, what).toBeLessThanOrEqual(mutant.weights.byteLength);
        return loaded;
      };

      for (let i = 0; i < MUTATIONS; i++) {
        const mutant = mutate(r, text, weights);
        const what = `${spec.name} #${i} (${mutant.kind})`;
        counts.files++;
        const before = memory();
        const outcome = attempt(mutant, what);
        if (outcome === "refused") counts.refused++;
        else if (outcome === "other") counts.other++;
        else {
          const p = predict(outcome);
          outcome.dispose();
          if (sameBits(p, reference)) counts.identical++;
          else {
            counts.other++;
            others.push(`${what}: loaded a model that predicts differently`);
          }
        }
        expect(memory().tensors, `${what}: leaked`).toBe(before.tensors);

        // the same change behind a valid checksum: the schema alone must hold
        if (mutant.tree) {
          counts.resealed++;
          const resealed = attempt({ json: reseal(mutant.tree), weights: mutant.weights }, `${what} re-sealed`);
          if (resealed === "refused") counts.resealedRefused++;
          else if (resealed !== "other") {
            counts.resealedLoaded++;
            try {
              predict(resealed);
            } catch (e) {
              if (!(e instanceof NeuriteError)) others.push(`${what} re-sealed: predict threw ${String(e)}`);
            }
            resealed.dispose();
          }
          expect(memory().tensors, `${what} re-sealed: leaked`).toBe(before.tensors);
        }
      }
      x.dispose();
      model.dispose();
      expect(others).toEqual([]);
      expect(counts.other).toBe(0);
    });
  });

  it("had both outcomes in every pass (the fuzz is not vacuous)", () => {
    expect(counts.files).toBe(MODELS.length * MUTATIONS);
    expect(counts.identical + counts.refused).toBe(counts.files);
    expect(counts.identical).toBeGreaterThan(0);
    expect(counts.refused).toBeGreaterThan(counts.files / 2);
    expect(counts.resealedLoaded).toBeGreaterThan(0);
    expect(counts.resealedRefused).toBeGreaterThan(0);
  });
});
