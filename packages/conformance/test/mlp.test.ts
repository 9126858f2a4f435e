import { readFileSync } from "node:fs";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { memory, setBackend, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { runMlpFile } from "../src/mlp/index.js";
import type { CaseResult } from "@neurite/testkit";

beforeAll(async () => {
  use(cpuBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
  await setBackend("cpu");
});

type Json = Record<string, unknown>;
const publicFile = JSON.parse(readFileSync(new URL("../../../fixtures/reference/mlp.json", import.meta.url), "utf8")) as Json;
const clone = <T>(v: T): T => structuredClone(v);

async function run(json: unknown): Promise<CaseResult[]> {
  return runMlpFile(json, { backends: ["cpu"], file: "test.json" });
}

const byId = (results: readonly CaseResult[]): Map<string, CaseResult> => new Map(results.map((r) => [r.id, r]));
const notPassing = (results: readonly CaseResult[]): string[] => results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.message}`);

// ---------------------------------------------------------------------------------------------------------
// An independent float64 MLP: plain arrays, written out loop by loop.

type Mat = number[][];
interface P64 {
  W: Mat[];
  b: number[][];
}

const f64: Record<string, { f: (x: number) => number; df: (x: number) => number }> = {
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
  tanh: { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), df: (x) => { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); } },
  identity: { f: (x) => x, df: () => 1 },
  leaky_relu: { f: (x) => (x > 0 ? x : 0.01 * x), df: (x) => (x > 0 ? 1 : 0.01) },
  "leaky_relu(negative_slope=0.2)": { f: (x) => (x > 0 ? x : 0.2 * x), df: (x) => (x > 0 ? 1 : 0.2) },
};

function softmaxRow(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

interface Forward64 {
  zs: Mat[];
  as: Mat[];
}

function forward64(p: P64, acts: readonly string[], x: Mat): Forward64 {
  const zs: Mat[] = [];
  const as: Mat[] = [];
  let h = x;
  p.W.forEach((W, l) => {
    const z = h.map((row) => W[0]!.map((_, j) => row.reduce((s, v, i) => s + v * W[i]![j]!, 0) + p.b[l]![j]!));
    const a = acts[l] === "softmax" ? z.map(softmaxRow) : z.map((row) => row.map(f64[acts[l]!]!.f));
    zs.push(z);
    as.push(a);
    h = a;
  });
  return { zs, as };
}

type Kind = "softmax_cross_entropy" | "mse" | "bce_probs" | "bce_logits";

interface Targets {
  labels?: number[];
  t?: Mat;
}

/** Loss, and dL/dz (logit losses) or dL/da (the others) of the output layer. */
function loss64(kind: Kind, f: Forward64, tg: Targets): { loss: number; dz?: Mat; da?: Mat } {
  const z = f.zs[f.zs.length - 1]!;
  const a = f.as[f.as.length - 1]!;
  const n = z.length;
  const c = z[0]!.length;
  if (kind === "softmax_cross_entropy") {
    let loss = 0;
    const dz = z.map((row, r) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      loss += (lse - row[tg.labels![r]!]!) / n;
      return softmaxRow(row).map((p, j) => (p - (j === tg.labels![r] ? 1 : 0)) / n);
    });
    return { loss, dz };
  }
  const t = tg.t!;
  let loss = 0;
  if (kind === "mse") {
    const da = a.map((row, r) => row.map((v, j) => { loss += (v - t[r]![j]!) ** 2 / (n * c); return (2 * (v - t[r]![j]!)) / (n * c); }));
    return { loss, da };
  }
  if (kind === "bce_probs") {
    const da = a.map((row, r) => row.map((p, j) => {
      const y = t[r]![j]!;
      loss -= (y * Math.max(Math.log(p), -100) + (1 - y) * Math.max(Math.log(1 - p), -100)) / (n * c);
      return (p - y) / (p * (1 - p)) / (n * c);
    }));
    return { loss, da };
  }
  const dz = z.map((row, r) => row.map((v, j) => {
    const y = t[r]![j]!;
    loss += (Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)))) / (n * c);
    return (1 / (1 + Math.exp(-v)) - y) / (n * c);
  }));
  return { loss, dz };
}

interface Backward64 {
  loss: number;
  dz: Mat[];
  da: (Mat | undefined)[];
  dW: Mat[];
  db: number[][];
}

function backward64(p: P64, acts: readonly string[], kind: Kind, x: Mat, tg: Targets): Backward64 {
  const f = forward64(p, acts, x);
  const L = p.W.length;
  const top = loss64(kind, f, tg);
  const dz: Mat[] = new Array<Mat>(L);
  const da: (Mat | undefined)[] = new Array<Mat | undefined>(L);
  const dW: Mat[] = new Array<Mat>(L);
  const db: number[][] = new Array<number[]>(L);
  for (let l = L - 1; l >= 0; l--) {
    if (l === L - 1) {
      da[l] = top.da;
      dz[l] = top.dz ?? top.da!.map((row, r) => row.map((g, j) => g * f64[acts[l]!]!.df(f.zs[l]![r]![j]!)));
    } else {
      const W = p.W[l + 1]!;
      da[l] = dz[l + 1]!.map((row) => W.map((wRow) => wRow.reduce((s, w, j) => s + w * row[j]!, 0)));
      dz[l] = da[l]!.map((row, r) => row.map((g, j) => g * f64[acts[l]!]!.df(f.zs[l]![r]![j]!)));
    }
    const prev = l === 0 ? x : f.as[l - 1]!;
    dW[l] = prev[0]!.map((_, i) => dz[l]![0]!.map((__, j) => prev.reduce((s, row, r) => s + row[i]! * dz[l]![r]![j]!, 0)));
    db[l] = dz[l]![0]!.map((_, j) => dz[l]!.reduce((s, row) => s + row[j]!, 0));
  }
  return { loss: top.loss, dz, da, dW, db };
}

// ---------------------------------------------------------------------------------------------------------
// Optimizers by hand (PyTorch's formulas), on flat parameter vectors.

interface Hyper {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weight_decay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  amsgrad?: boolean;
  alpha?: number;
}

type OptKind = "sgd" | "adam" | "adamw" | "rmsprop";

/** One parameter's optimizer state, in PyTorch's names. */
interface State64 {
  buf?: number[];
  m?: number[];
  v?: number[];
  vmax?: number[];
  sq?: number[];
}

function step64(kind: OptKind, h: Hyper, t: number, p: number[], g: number[], s: State64): void {
  const wd = h.weight_decay ?? (kind === "adamw" ? 0.01 : 0);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i]!;
    if (kind === "sgd") {
      gi += wd * p[i]!;
      const m = h.momentum ?? 0;
      if (m === 0) {
        p[i] = p[i]! - h.lr * gi;
        continue;
      }
      s.buf ??= new Array<number>(p.length);
      s.buf[i] = t === 1 ? gi : m * s.buf[i]! + (1 - (h.dampening ?? 0)) * gi;
      p[i] = p[i]! - h.lr * (h.nesterov ? gi + m * s.buf[i]! : s.buf[i]!);
    } else if (kind === "rmsprop") {
      gi += wd * p[i]!;
      const a = h.alpha ?? 0.99;
      s.sq ??= new Array<number>(p.length).fill(0);
      s.sq[i] = a * s.sq[i]! + (1 - a) * gi * gi;
      p[i] = p[i]! - (h.lr * gi) / (Math.sqrt(s.sq[i]!) + (h.eps ?? 1e-8));
    } else {
      const [b1, b2, eps] = [h.beta1 ?? 0.9, h.beta2 ?? 0.999, h.eps ?? 1e-8];
      if (kind === "adamw") p[i] = p[i]! * (1 - h.lr * wd);
      else gi += wd * p[i]!;
      s.m ??= new Array<number>(p.length).fill(0);
      s.v ??= new Array<number>(p.length).fill(0);
      s.m[i] = b1 * s.m[i]! + (1 - b1) * gi;
      s.v[i] = b2 * s.v[i]! + (1 - b2) * gi * gi;
      let v = s.v[i]!;
      if (h.amsgrad) {
        s.vmax ??= new Array<number>(p.length).fill(0);
        s.vmax[i] = Math.max(s.vmax[i]!, v);
        v = s.vmax[i]!;
      }
      const mHat = s.m[i]! / (1 - b1 ** t);
      const vHat = v / (1 - b2 ** t);
      p[i] = p[i]! - (h.lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Building files in the reference schema from the float64 model

const flat = (m: Mat): number[] => m.flat();
const shaped = (m: Mat) => ({ shape: [m.length, m[0]!.length], values: flat(m) });
const vec = (v: number[]) => ({ shape: [v.length], values: [...v] });
const rows = (values: readonly number[], cols: number): Mat => Array.from({ length: values.length / cols }, (_, r) => values.slice(r * cols, r * cols + cols));

interface NetDef {
  dims: number[]; // [in, h1, …, out]
  params: P64;
  x: Mat;
}

function paramsJson(p: P64): Json {
  const out: Json = {};
  p.W.forEach((W, l) => {
    out[`W${l + 1}`] = shaped(W);
    out[`b${l + 1}`] = vec(p.b[l]!);
  });
  return out;
}

const toFlat = (p: P64): number[][] => p.W.flatMap((W, l) => [flat(W), [...p.b[l]!]]);
function fromFlat(p: P64, vs: number[][]): P64 {
  return { W: p.W.map((W, l) => rows(vs[2 * l]!, W[0]!.length)), b: p.b.map((_, l) => vs[2 * l + 1]!) };
}

function stateJson(p: P64, st: State64[], key: keyof State64): Json {
  const out: Json = {};
  p.W.forEach((W, l) => {
    out[`W${l + 1}`] = { shape: [W.length, W[0]!.length], values: [...st[2 * l]![key]!] };
    out[`b${l + 1}`] = { shape: [p.b[l]!.length], values: [...st[2 * l + 1]![key]!] };
  });
  return out;
}

function optimizerSection(net: NetDef, acts: readonly string[], kind: Kind, tg: Targets, opt: OptKind, hyper: Hyper, steps: number): Json {
  let p = net.params;
  const states: State64[] = toFlat(p).map(() => ({}));
  const out: Json[] = [];
  for (let t = 1; t <= steps; t++) {
    const bw = backward64(p, acts, kind, net.x, tg);
    const grads = bw.dW.flatMap((dW, l) => [flat(dW), bw.db[l]!]);
    const vs = toFlat(p);
    vs.forEach((v, i) => step64(opt, hyper, t, v, grads[i]!, states[i]!));
    p = fromFlat(p, vs);
    const step: Json = { step: t, loss_before_step: bw.loss, params_after: paramsJson(p) };
    if (opt === "sgd" && (hyper.momentum ?? 0) > 0) step.momentum_buffer_after = stateJson(p, states, "buf");
    if (opt === "adam" || opt === "adamw") {
      step.adam_m_after = stateJson(p, states, "m");
      step.adam_v_after = stateJson(p, states, "v");
    }
    out.push(step);
  }
  return { hyper: { ...hyper }, update: "by hand in float64", steps: out, loss_after_last_step: backward64(p, acts, kind, net.x, tg).loss };
}

function variantJson(net: NetDef, acts: readonly string[], kind: Kind, tg: Targets, optimizers: Record<string, [OptKind, Hyper, number]>): Json {
  const f = forward64(net.params, acts, net.x);
  const bw = backward64(net.params, acts, kind, net.x, tg);
  const lossKind = kind === "bce_probs" || kind === "bce_logits" ? "binary_cross_entropy" : kind;
  const definition = {
    softmax_cross_entropy: "mean over the batch of -log(softmax(z)[label]), from the logits",
    mse: "mean over batch*outputs of (a - onehot)^2",
    bce_probs: "mean of -(y log p + (1-y) log(1-p)) with p = sigmoid(z) (torch F.binary_cross_entropy on probabilities)",
    bce_logits: "torch F.binary_cross_entropy_with_logits(z, y): computed from the logits",
  }[kind];
  const grads: Json = {};
  bw.dW.forEach((dW, l) => {
    grads[`W${l + 1}`] = shaped(dW);
    grads[`b${l + 1}`] = vec(bw.db[l]!);
  });
  return {
    activations: [...acts],
    loss_kind: lossKind,
    loss_definition: definition,
    forward: f.zs.map((z, l) => ({
      layer: l + 1,
      activation: acts[l],
      z_shape: [z.length, z[0]!.length],
      z: flat(z),
      a: flat(f.as[l]!),
      dL_dz: flat(bw.dz[l]!),
      dL_da: bw.da[l] ? flat(bw.da[l]) : null,
    })),
    loss: bw.loss,
    grads,
    optimizers: Object.fromEntries(Object.entries(optimizers).map(([name, [opt, hyper, steps]]) => [name, optimizerSection(net, acts, kind, tg, opt, hyper, steps)])),
  };
}

/** A float32-exact pseudo-random value in [lo, hi) from a small LCG (the test's own generator). */
function lcg(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + ((hi - lo) * s) / 2 ** 32);
  };
}

function randomNet(dims: number[], n: number, seed: number): NetDef {
  const r = lcg(seed);
  const W: Mat[] = [];
  const b: number[][] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const lim = Math.sqrt(6 / (dims[l]! + dims[l + 1]!));
    W.push(Array.from({ length: dims[l]! }, () => Array.from({ length: dims[l + 1]! }, () => r(-lim, lim))));
    b.push(Array.from({ length: dims[l + 1]! }, () => r(-0.1, 0.1)));
  }
  return { dims, params: { W, b }, x: Array.from({ length: n }, () => Array.from({ length: dims[0]! }, () => r(-2, 2))) };
}

function architecture(dims: number[], acts: readonly string[]): Json {
  return { layers: dims.slice(1).map((units, l) => ({ name: `dense${l + 1}`, units, input_dim: dims[l], activation: acts[l] })) };
}

/** The public network (its parameters, inputs and labels), read back as float64 arrays. */
function publicNet(): { net: NetDef; labels: number[]; onehot: Mat } {
  const s = publicFile.small_mlp as Json;
  const ip = s.initial_params as Record<string, { shape: number[]; values: number[] }>;
  const W = [1, 2, 3].map((l) => rows(ip[`W${l}`]!.values, ip[`W${l}`]!.shape[1]!));
  const b = [1, 2, 3].map((l) => [...ip[`b${l}`]!.values]);
  const x = s.x as { shape: number[]; values: number[] };
  const oh = s.onehot as { shape: number[]; values: number[] };
  return { net: { dims: [4, 8, 6, 3], params: { W, b }, x: rows(x.values, x.shape[1]!) }, labels: s.labels as number[], onehot: rows(oh.values, 3) };
}

const OPTIMIZERS: Record<string, [OptKind, Hyper, number]> = {
  sgd: ["sgd", { lr: 0.1, momentum: 0, weight_decay: 0 }, 3],
  sgd_momentum: ["sgd", { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 0 }, 4],
  sgd_nesterov: ["sgd", { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, weight_decay: 0.01 }, 4],
  sgd_dampening: ["sgd", { lr: 0.05, momentum: 0.9, dampening: 0.3, nesterov: false, weight_decay: 0 }, 3],
  adam: ["adam", { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, amsgrad: false }, 4],
  adam_l2: ["adam", { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-8, weight_decay: 0.1, amsgrad: false }, 3],
  adam_amsgrad: ["adam", { lr: 0.02, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, amsgrad: true }, 4],
  adamw: ["adamw", { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.05, amsgrad: false }, 3],
  rmsprop: ["rmsprop", { lr: 0.01, alpha: 0.9, eps: 1e-8, momentum: 0, weight_decay: 0 }, 3],
};

function trajectory(name: string, net: NetDef, acts: readonly string[], kind: Kind, tg: Targets, lr: number, checkpoints: number[]): Json {
  let p = net.params;
  const losses: Record<string, number> = {};
  const last = Math.max(...checkpoints);
  for (let k = 0; k <= last; k++) {
    const bw = backward64(p, acts, kind, net.x, tg);
    if (checkpoints.includes(k)) losses[String(k)] = bw.loss;
    const vs = toFlat(p);
    const grads = bw.dW.flatMap((dW, l) => [flat(dW), bw.db[l]!]);
    vs.forEach((v, i) => step64("sgd", { lr }, 1, v, grads[i]!, {}));
    p = fromFlat(p, vs);
  }
  const lossKind = kind === "bce_probs" ? "binary_cross_entropy" : kind;
  const dataset: Json = { n: net.x.length, x: shaped(net.x), y: tg.labels ? [...tg.labels] : shaped(tg.t!) };
  return {
    name,
    dataset,
    architecture: architecture(net.dims, acts),
    initial_params: paramsJson(net.params),
    optimizer: { name: "sgd", lr, momentum: 0 },
    loss_kind: lossKind,
    loss_definition: "full-batch mean loss",
    checkpoints: losses,
  };
}

/** A file with every section the public one lacks, computed by the float64 model above. */
function syntheticFile(): Json {
  const { net, labels, onehot } = publicNet();
  const small = clone(publicFile.small_mlp as Json);
  small.variants = {
    softmax_ce: variantJson(net, ["relu", "tanh", "softmax"], "softmax_cross_entropy", { labels }, OPTIMIZERS),
    sigmoid_mse: variantJson(net, ["relu", "tanh", "sigmoid"], "mse", { t: onehot }, OPTIMIZERS),
  };
  const bin = randomNet([4, 5, 1], 6, 7);
  const y = [[0], [1], [1], [0], [1], [0]];
  const binary = {
    architecture: architecture(bin.dims, ["leaky_relu(negative_slope=0.2)", "sigmoid"]),
    initial_params: paramsJson(bin.params),
    x: shaped(bin.x),
    y: y.flat(),
    variants: {
      binary_cross_entropy: variantJson(bin, ["leaky_relu(negative_slope=0.2)", "sigmoid"], "bce_probs", { t: y }, { sgd_momentum: OPTIMIZERS.sgd_momentum!, adam: OPTIMIZERS.adam! }),
      bce_logits: variantJson(bin, ["leaky_relu", "sigmoid"], "bce_logits", { t: y }, { adamw: OPTIMIZERS.adamw! }),
    },
  };
  const trNet = randomNet([2, 6, 1], 12, 11);
  const trY = trNet.x.map(([a, b]) => [a! * b! > 0 ? 1 : 0]);
  const ceNet = randomNet([3, 5, 3], 9, 5);
  const ceLabels = ceNet.x.map((r) => (r[0]! > 0.5 ? 0 : r[1]! > 0 ? 1 : 2));
  return {
    meta: { description: "synthetic, float64 by hand" },
    small_mlp: small,
    binary_mlp: binary,
    training_trajectories: [
      trajectory("xor_like_bce", trNet, ["tanh", "sigmoid"], "bce_probs", { t: trY }, 0.5, [0, 1, 5, 20, 60]),
      trajectory("three_class_ce", ceNet, ["relu", "identity"], "softmax_cross_entropy", { labels: ceLabels }, 0.2, [0, 3, 30]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------

describe("runMlpFile on the public mlp.json", () => {
  it("passes every case on cpu, none unsupported", async () => {
    const results = await run(publicFile);
    expect(notPassing(results)).toEqual([]);
    const ids = new Set(results.map((r) => r.id));
    for (const id of [
      "softmax_ce/forward/dense1", "softmax_ce/forward/dense3", "softmax_ce/loss", "softmax_ce/dL_dz/dense3", "softmax_ce/dL_da/dense2",
      "softmax_ce/grads/W1", "softmax_ce/grads/b3", "softmax_ce/optimizers/sgd/step 1", "softmax_ce/optimizers/sgd/loss after step 1",
    ]) expect(ids).toContain(id);
    // 3 forward + 3 dL/dz + 2 dL/da (the output's is null: the loss reads the logits) + loss + 6 grads + 2 sgd
    expect(results).toHaveLength(17);
    for (const r of results) {
      expect(r.backend).toBe("cpu");
      expect(r.file).toBe("test.json");
      expect(r.maxAbsErr).not.toBeNull();
    }
  });

  it("leaves no tensors behind and the active backend as it was", async () => {
    await run(publicFile); // warm any caches first
    const before = memory();
    await run(publicFile);
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.backend?.name).toBe("cpu");
  });

  it("fails a case whose reference value is off, and only that case", async () => {
    const bad = clone(publicFile);
    const v = (bad.small_mlp as Json).variants as Record<string, Json>;
    const fwd = v.softmax_ce!.forward as Json[];
    (fwd[1]!.a as number[])[3]! += 1e-3;
    const grads = v.softmax_ce!.grads as Record<string, { values: number[] }>;
    grads.W2!.values[5]! *= 1.01;
    const results = byId(await run(bad));
    expect(results.get("softmax_ce/forward/dense2")!.status).toBe("fail");
    expect(results.get("softmax_ce/forward/dense2")!.message).toMatch(/^a\[3\]/);
    expect(results.get("softmax_ce/grads/W2")!.status).toBe("fail");
    expect(results.get("softmax_ce/grads/W2")!.message).toMatch(/W2\[5\]/);
    const others = [...results.values()].filter((r) => !["softmax_ce/forward/dense2", "softmax_ce/grads/W2"].includes(r.id));
    expect(notPassing(others)).toEqual([]);
  });
});

describe("runMlpFile on sections the public file lacks (float64 references computed here)", () => {
  const file = syntheticFile();
  let results: CaseResult[] = [];
  beforeAll(async () => {
    results = await run(file);
  });

  it("passes every variant, loss, optimizer and trajectory case", () => {
    expect(notPassing(results)).toEqual([]);
    const count = (op: string) => results.filter((r) => r.op === op).length;
    // forward: 3 + 3 + 2 + 2 layers; dL/da is null only where the loss reads the logits
    expect(count("mlp/forward")).toBe(10);
    expect(count("mlp/dL_dz")).toBe(10);
    expect(count("mlp/dL_da")).toBe(2 + 3 + 2 + 1);
    expect(count("mlp/loss")).toBe(4);
    expect(count("mlp/grads")).toBe(6 + 6 + 4 + 4);
    expect(count("mlp/training_trajectories")).toBe(5 + 3);
    const ids = new Set(results.map((r) => r.id));
    for (const id of [
      "sigmoid_mse/forward/dense3", "sigmoid_mse/dL_da/dense3", "sigmoid_mse/grads/W1",
      "sigmoid_mse/optimizers/sgd_momentum/step 4", "sigmoid_mse/optimizers/sgd_nesterov/step 2",
      "softmax_ce/optimizers/adam/step 4", "softmax_ce/optimizers/adam_amsgrad/step 4", "softmax_ce/optimizers/adam_l2/step 3",
      "softmax_ce/optimizers/adamw/step 3", "softmax_ce/optimizers/rmsprop/step 3", "softmax_ce/optimizers/sgd_dampening/step 3",
      "binary_mlp/binary_cross_entropy/loss", "binary_mlp/binary_cross_entropy/dL_da/dense2", "binary_mlp/bce_logits/dL_dz/dense2",
      "binary_mlp/binary_cross_entropy/optimizers/adam/loss after step 4",
      "xor_like_bce/checkpoint 0", "xor_like_bce/checkpoint 60", "three_class_ce/checkpoint 30",
    ]) expect(ids).toContain(id);
  });

  it("checks the optimizer state it reads (a wrong buffer fails)", async () => {
    const bad = clone(file);
    const variants = (bad.small_mlp as Json).variants as Record<string, Json>;
    const opts = variants.softmax_ce!.optimizers as Record<string, { steps: Json[] }>;
    ((opts.sgd_momentum!.steps[1]!.momentum_buffer_after as Record<string, { values: number[] }>).W3!.values)[0]! += 1e-3;
    ((opts.adam!.steps[2]!.adam_v_after as Record<string, { values: number[] }>).b2!.values)[1]! *= 1.5;
    ((opts.adamw!.steps[0]!.params_after as Record<string, { values: number[] }>).W1!.values)[7]! += 1e-4;
    const r = byId(await run(bad));
    expect(r.get("softmax_ce/optimizers/sgd_momentum/step 2")!.status).toBe("fail");
    expect(r.get("softmax_ce/optimizers/sgd_momentum/step 2")!.message).toMatch(/momentum_buffer_after\.W3\[0\]/);
    expect(r.get("softmax_ce/optimizers/adam/step 3")!.message).toMatch(/adam_v_after\.b2\[1\]/);
    expect(r.get("softmax_ce/optimizers/adamw/step 1")!.message).toMatch(/params_after\.W1\[7\]/);
    expect(notPassing([...r.values()])).toHaveLength(3);
  });

  it("detects the wrong optimizer semantics (Nesterov read as plain momentum, AdamW as Adam+L2)", async () => {
    const bad = clone(file);
    const variants = (bad.small_mlp as Json).variants as Record<string, Json>;
    const opts = variants.sigmoid_mse!.optimizers as Record<string, { hyper: Json }>;
    opts.sgd_nesterov!.hyper.nesterov = false;
    (variants.sigmoid_mse!.optimizers as Json).adam_as_l2 = opts.adamw; // the same numbers, read as Adam with L2 decay
    const r = await run(bad);
    const failed = r.filter((c) => c.status === "fail").map((c) => c.id);
    // step 1 of Nesterov differs already (g + m·buf ≠ buf); steps 2+ and the final loss too
    expect(failed).toEqual(expect.arrayContaining(["sigmoid_mse/optimizers/sgd_nesterov/step 1", "sigmoid_mse/optimizers/sgd_nesterov/step 4"]));
    expect(failed).toEqual(expect.arrayContaining(["sigmoid_mse/optimizers/adam_as_l2/step 1", "sigmoid_mse/optimizers/adam_as_l2/step 3"]));
    expect(failed.every((id) => id.includes("sgd_nesterov") || id.includes("adam_as_l2"))).toBe(true);
  });

  it("fails a trajectory checkpoint that is off by more than 1e-5", async () => {
    const bad = clone(file);
    const tr = (bad.training_trajectories as Json[])[0]!.checkpoints as Record<string, number>;
    tr["20"] = tr["20"]! + 3e-5;
    const r = byId(await run(bad));
    expect(r.get("xor_like_bce/checkpoint 20")!.status).toBe("fail");
    expect(r.get("xor_like_bce/checkpoint 5")!.status).toBe("pass");
  });
});

describe("runMlpFile never drops what it does not understand", () => {
  it("reports unknown sections, fields, losses, activations and optimizers as unsupported, naming them", async () => {
    const file = clone(publicFile);
    file.conv_net = { kernels: [1, 2, 3] };
    const small = file.small_mlp as Json;
    const variants = small.variants as Record<string, Json>;
    variants.softmax_ce!.hessian = { shape: [1], values: [1] };
    const ce = variants.softmax_ce!;
    variants.huber = { ...clone(ce), loss_kind: "huber", loss_definition: "smooth L1" };
    variants.snake_net = { ...clone(ce), activations: ["snake", "tanh", "softmax"] };
    (variants.softmax_ce!.optimizers as Json).lbfgs = { hyper: { lr: 1 }, steps: [{ step: 1, loss_before_step: 1 }] };
    (variants.softmax_ce!.optimizers as Json).sgd_odd = { hyper: { lr: 0.1, gradient_centralization: true }, steps: [{ step: 1, loss_before_step: 1 }] };
    const r = await run(file);
    const get = (id: string) => r.find((c) => c.id === id);
    expect(get("conv_net")).toMatchObject({ status: "unsupported", message: expect.stringMatching(/conv_net/) as unknown });
    expect(get("softmax_ce/hessian")).toMatchObject({ status: "unsupported", message: expect.stringMatching(/hessian/) as unknown });
    // an unknown loss: the forward pass is still checked, everything that needs the loss is unsupported
    expect(get("huber/forward/dense1")!.status).toBe("pass");
    for (const id of ["huber/loss", "huber/grads/W1", "huber/dL_dz/dense1", "huber/optimizers/sgd/step 1"]) {
      expect(get(id)).toMatchObject({ status: "unsupported", message: expect.stringMatching(/huber/) as unknown });
    }
    // an activation the registry lacks
    expect(get("snake_net/forward/dense1")).toMatchObject({ status: "unsupported", message: expect.stringMatching(/snake/) as unknown });
    expect(get("snake_net/grads/W3")!.status).toBe("unsupported");
    expect(get("softmax_ce/optimizers/lbfgs/step 1")).toMatchObject({ status: "unsupported", message: expect.stringMatching(/lbfgs/) as unknown });
    expect(get("softmax_ce/optimizers/sgd_odd/step 1")).toMatchObject({ status: "unsupported", message: expect.stringMatching(/gradient_centralization/) as unknown });
    // what it does understand still passes
    expect(get("softmax_ce/grads/W1")!.status).toBe("pass");
    expect(r.filter((c) => c.status === "fail")).toEqual([]);
  });

  it("names the path inside the file and the fix for malformed and unknown fields (the schema)", async () => {
    const file = clone(publicFile);
    const small = file.small_mlp as Json;
    ((small.architecture as Json).layers as Json[])[0]!.units = 2.5;
    (small.variants as Record<string, Json>).softmax_ce!.hessian = [1];
    const r = await run(file);
    const get = (id: string) => r.find((c) => c.id === id);
    expect(get("softmax_ce/forward/dense1")).toMatchObject({
      status: "unsupported", message: "small_mlp/architecture/layers[0]/units: units must be a whole number, got 2.5",
    });
    expect(get("softmax_ce/hessian")!.message).toMatch(/^unknown field hessian at small_mlp\/variants\/softmax_ce\/hessian: this runner cannot check it; rename it to one of architecture, initial_params, .*, or remove it$/);
    expect(r.filter((c) => c.status === "fail")).toEqual([]);
  });

  it("reports a backend that cannot start as failing every case", async () => {
    const r = await runMlpFile(publicFile, { backends: ["nope"], file: "x.json" });
    expect(r).toHaveLength(17);
    expect(r.every((c) => c.status === "fail" && /nope/.test(c.message))).toBe(true);
    expect(memory().backend?.name).toBe("cpu");
  });
});
