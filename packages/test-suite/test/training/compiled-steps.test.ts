/**
 * Compiled training steps: after two recorded steps of the same shapes, trainOnBatch replays the recorded
 * kernel calls and updates the weights in place. Every test trains two models from the same seed, one with
 * `compiledSteps: false` (the eager path, the reference), and requires the same losses, metrics and weights
 * bit for bit, for every optimizer and loss, on every backend; then the fallbacks, memory and invalidation.
 */
import {
  type CompileOptions, type LayerSpec, type Optimizer, type Sequential, type Tensor, adam, adamW, getBackend, memory,
  observeBackend, rmsprop, sequential, setBackend, sgd, tensor, use,
} from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { softmaxFamily } from "@neurite/activations-softmax";
import { TestRng } from "@neurite/test-support";
import { expect, test } from "vitest";
import { BACKENDS, forEachBackend } from "../../src/backends.js";

const seeded = (seed: number): (() => number) => {
  const rng = new TestRng(seed);
  return () => rng.next();
};
/** Why a shape runs eagerly ("" when it does not). */
const eagerReason = (status: ReturnType<Sequential["compiledStepStatus"]>): string => (typeof status === "object" ? status.eager : "");
/** What live tensors and the active backend hold. */
const held = (): { tensors: number; bytes: number | undefined } => ({ tensors: memory().tensors, bytes: memory().backend?.bytes });

use(reluFamily, sigmoidFamily, softmaxFamily);

const OPTIMIZERS: Record<string, () => Optimizer> = {
  "sgd": () => sgd({ lr: 0.05 }),
  "sgd momentum dampening": () => sgd({ lr: 0.05, momentum: 0.9, dampening: 0.1 }),
  "sgd nesterov weightDecay": () => sgd({ lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
  "adam": () => adam({ lr: 0.01 }),
  "adam amsgrad weightDecay": () => adam({ lr: 0.01, amsgrad: true, weightDecay: 0.02 }),
  "adamW": () => adamW({ lr: 0.01 }),
  "rmsprop": () => rmsprop({ lr: 0.01 }),
  "rmsprop centered momentum": () => rmsprop({ lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.01 }),
};

/** The loss, the last layer it needs and the targets it reads, for 3 outputs. */
const LOSSES: Record<string, { loss: CompileOptions["loss"]; last: LayerSpec; targets: (rows: number, random: () => number) => Tensor; compiles: boolean }> = {
  mse: { loss: "mse", last: { type: "dense", units: 3, activation: "tanh" }, targets: (n, r) => tensor(Array.from({ length: n * 3 }, () => r() * 2 - 1), [n, 3]), compiles: true },
  mae: { loss: "mae", last: { type: "dense", units: 3 }, targets: (n, r) => tensor(Array.from({ length: n * 3 }, () => r() * 2 - 1), [n, 3]), compiles: true },
  binaryCrossEntropy: { loss: "binaryCrossEntropy", last: { type: "dense", units: 3, activation: "sigmoid" }, targets: (n, r) => tensor(Array.from({ length: n * 3 }, () => (r() < 0.5 ? 0 : 1)), [n, 3]), compiles: true },
  "binaryCrossEntropy fromLogits": { loss: { name: "binaryCrossEntropy", fromLogits: true }, last: { type: "dense", units: 3 }, targets: (n, r) => tensor(Array.from({ length: n * 3 }, () => (r() < 0.5 ? 0 : 1)), [n, 3]), compiles: true },
  "categoricalCrossEntropy (fused with softmax)": { loss: "categoricalCrossEntropy", last: { type: "dense", units: 3, activation: "softmax" }, targets: oneHotRows, compiles: true },
  // the labels are checked on the host (class indices) inside the step: it stays eager, and still agrees
  sparseCategoricalCrossEntropy: { loss: "sparseCategoricalCrossEntropy", last: { type: "dense", units: 3, activation: "softmax" }, targets: (n, r) => tensor(Array.from({ length: n }, () => Math.floor(r() * 3)), [n]), compiles: false },
};

function oneHotRows(n: number, random: () => number): Tensor {
  const v = new Array<number>(n * 3).fill(0);
  for (let i = 0; i < n; i++) v[i * 3 + Math.floor(random() * 3)] = 1;
  return tensor(v, [n, 3]);
}

function model(last: LayerSpec, options: CompileOptions, seed = 7): Sequential {
  const m = sequential([{ type: "dense", units: 5, activation: "tanh", inputShape: [4] }, { type: "dense", units: 4, activation: "relu" }, last], { seed });
  m.compile(options);
  return m;
}

const inputs = (n: number, random: () => number): Tensor => tensor(Array.from({ length: n * 4 }, () => random() * 4 - 2), [n, 4]);

/** Every weight's values, bit for bit comparable. */
const weightsOf = (m: Sequential): number[][] => m.trainableWeights.map((w) => Array.from(w.dataSync()));

/** Trains an eager and a compiled copy side by side over `batches`, checking each step's logs. */
function trainBoth(last: LayerSpec, options: Omit<CompileOptions, "optimizer">, optimizer: () => Optimizer, batches: readonly (readonly [Tensor, Tensor])[], steps: number) {
  const eager = model(last, { ...options, optimizer: optimizer(), compiledSteps: false });
  const compiled = model(last, { ...options, optimizer: optimizer() });
  for (let s = 0; s < steps; s++) {
    const [x, y] = batches[s % batches.length]!;
    expect(compiled.trainOnBatch(x, y)).toStrictEqual(eager.trainOnBatch(x, y));
  }
  return { eager, compiled };
}

function batchesOf(targets: (n: number, r: () => number) => Tensor, rows: number, count: number, seed = 3): [Tensor, Tensor][] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => [inputs(rows, random), targets(rows, random)] as [Tensor, Tensor]);
}

forEachBackend("compiled training steps", () => {
  for (const [lossName, spec] of Object.entries(LOSSES)) {
    test(`${lossName}: every optimizer gives the eager path's losses and weights bit for bit`, () => {
      const batches = batchesOf(spec.targets, 6, 3);
      for (const [name, optimizer] of Object.entries(OPTIMIZERS)) {
        const { eager, compiled } = trainBoth(spec.last, { loss: spec.loss, metrics: ["accuracy"] }, optimizer, batches, 9);
        expect(weightsOf(compiled), name).toStrictEqual(weightsOf(eager));
        for (const w of compiled.trainableWeights) {
          const state = compiled.optimizer.state?.(w) ?? {};
          const reference = eager.optimizer.state?.(eager.trainableWeights[compiled.trainableWeights.indexOf(w)]!) ?? {};
          for (const [k, t] of Object.entries(state)) expect(Array.from(t.dataSync()), `${name} ${k}`).toStrictEqual(Array.from(reference[k]!.dataSync()));
        }
        const status = compiled.compiledStepStatus(batches[0]![0], batches[0]![1]);
        if (spec.compiles) expect(status, name).toBe("compiled");
        else expect(eagerReason(status), name).toMatch(/read back to JavaScript/);
        eager.dispose();
        compiled.dispose();
      }
      for (const [x, y] of batches) for (const t of [x, y]) t.dispose();
    });
  }

  test("the learning rate changed between steps is the one a compiled step uses", () => {
    const batches = batchesOf(oneHotRows, 5, 2);
    const eager = model(LOSSES.mse!.last, { loss: "mse", optimizer: adam({ lr: 0.01 }), compiledSteps: false });
    const compiled = model(LOSSES.mse!.last, { loss: "mse", optimizer: adam({ lr: 0.01 }) });
    for (let s = 0; s < 12; s++) {
      if (s === 6) eager.optimizer.lr = compiled.optimizer.lr = 0.002;
      const [x, y] = batches[s % 2]!;
      expect(compiled.trainOnBatch(x, y)).toStrictEqual(eager.trainOnBatch(x, y));
    }
    expect(compiled.compiledStepStatus(batches[0]![0], batches[0]![1])).toBe("compiled");
    expect(weightsOf(compiled)).toStrictEqual(weightsOf(eager));
    eager.dispose();
    compiled.dispose();
  });

  test("two batch shapes get a plan each; fit with a short last batch agrees with the eager path", async () => {
    const random = seeded(11);
    const x = inputs(23, random);
    const y = oneHotRows(23, random);
    const eager = model(LOSSES["categoricalCrossEntropy (fused with softmax)"]!.last, { loss: "categoricalCrossEntropy", optimizer: sgd({ lr: 0.1, momentum: 0.9 }), metrics: ["accuracy"], compiledSteps: false });
    const compiled = model(LOSSES["categoricalCrossEntropy (fused with softmax)"]!.last, { loss: "categoricalCrossEntropy", optimizer: sgd({ lr: 0.1, momentum: 0.9 }), metrics: ["accuracy"] });
    const a = await eager.fit(x, y, { epochs: 4, batchSize: 8, shuffle: true });
    const b = await compiled.fit(x, y, { epochs: 4, batchSize: 8, shuffle: true });
    expect(b.history).toStrictEqual(a.history);
    expect(weightsOf(compiled)).toStrictEqual(weightsOf(eager));
    for (const t of [x, y, eager, compiled]) t.dispose();
  });

  test("memory stays flat while compiled steps run, and dispose frees the plan", () => {
    const before = held();
    const batches = batchesOf(LOSSES.mse!.targets, 8, 2);
    const m = model(LOSSES.mse!.last, { loss: "mse", optimizer: adam({ lr: 0.01 }), metrics: ["accuracy"] });
    for (let s = 0; s < 4; s++) m.trainOnBatch(...batches[s % 2]!);
    expect(m.compiledStepStatus(...batches[0]!)).toBe("compiled");
    const during = held();
    for (let s = 0; s < 40; s++) m.trainOnBatch(...batches[s % 2]!);
    expect(held()).toEqual(during);
    m.dispose();
    for (const [x, y] of batches) for (const t of [x, y]) t.dispose();
    expect(held()).toEqual(before);
  });

  test("a replay makes the eager step's kernel calls and copies the batch, nothing more", () => {
    const batches = batchesOf(LOSSES.mse!.targets, 6, 1);
    const [x, y] = batches[0]!;
    const eager = model(LOSSES.mse!.last, { loss: "mse", optimizer: sgd({ lr: 0.05 }), compiledSteps: false });
    const compiled = model(LOSSES.mse!.last, { loss: "mse", optimizer: sgd({ lr: 0.05 }) });
    for (let s = 0; s < 3; s++) compiled.trainOnBatch(x, y);
    const count = (m: Sequential): Record<string, number> => {
      const calls: Record<string, number> = {};
      const stop = observeBackend(getBackend(), { kernel: (name, _optional, _args, run) => { calls[name] = (calls[name] ?? 0) + 1; run(); } });
      try {
        m.trainOnBatch(x, y);
      } finally {
        stop();
      }
      return calls;
    };
    // the batch is copied into the plan's own buffers (one copy each for x and y), so that every call that
    // reads it stays prepared
    expect(count(compiled)).toEqual({ ...count(eager), copy: 2 });
    for (const t of [x, y, eager, compiled]) t.dispose();
  });

  test("dropout draws new masks each step: the step stays eager and says why", () => {
    const batches = batchesOf(LOSSES.mse!.targets, 6, 1);
    const m = sequential([{ type: "dense", units: 6, activation: "relu", inputShape: [4] }, { type: "dropout", rate: 0.5 }, { type: "dense", units: 3 }], { seed: 2 });
    m.compile({ optimizer: sgd({ lr: 0.01 }), loss: "mse" });
    for (let s = 0; s < 4; s++) m.trainOnBatch(...batches[0]!);
    expect(eagerReason(m.compiledStepStatus(...batches[0]!))).toMatch(/different kernel calls/);
    m.dispose();
    for (const [x, y] of batches) for (const t of [x, y]) t.dispose();
  });

  test("a weight assigned from outside, or a new optimizer, makes a new plan that still agrees", () => {
    const batches = batchesOf(LOSSES.mse!.targets, 6, 2);
    const eager = model(LOSSES.mse!.last, { loss: "mse", optimizer: rmsprop({ lr: 0.01 }), compiledSteps: false });
    const compiled = model(LOSSES.mse!.last, { loss: "mse", optimizer: rmsprop({ lr: 0.01 }) });
    const step = (s: number): void => {
      const [x, y] = batches[s % 2]!;
      expect(compiled.trainOnBatch(x, y)).toStrictEqual(eager.trainOnBatch(x, y));
    };
    for (let s = 0; s < 5; s++) step(s);
    for (const m of [eager, compiled]) {
      const w = m.trainableWeights[0]!;
      const halved = w.mul(0.5);
      w.assign(halved);
      halved.dispose();
    }
    for (let s = 5; s < 10; s++) step(s);
    expect(compiled.compiledStepStatus(...batches[0]!)).toBe("compiled");
    eager.compile({ loss: "mse", optimizer: sgd({ lr: 0.02, momentum: 0.5 }), compiledSteps: false });
    compiled.compile({ loss: "mse", optimizer: sgd({ lr: 0.02, momentum: 0.5 }) });
    for (let s = 10; s < 16; s++) step(s);
    expect(weightsOf(compiled)).toStrictEqual(weightsOf(eager));
    for (const t of [eager, compiled]) t.dispose();
    for (const [x, y] of batches) for (const t of [x, y]) t.dispose();
  });
});

test("switching backends between compiled steps moves the weights and keeps agreeing", async () => {
  const [first, second] = BACKENDS as [string, string];
  await setBackend(first);
  const batches = batchesOf(LOSSES.mse!.targets, 6, 2);
  const eager = model(LOSSES.mse!.last, { loss: "mse", optimizer: adam({ lr: 0.01 }), compiledSteps: false });
  const compiled = model(LOSSES.mse!.last, { loss: "mse", optimizer: adam({ lr: 0.01 }) });
  for (let s = 0; s < 4; s++) {
    const [x, y] = batches[s % 2]!;
    expect(compiled.trainOnBatch(x, y)).toStrictEqual(eager.trainOnBatch(x, y));
  }
  await setBackend(second);
  for (let s = 4; s < 8; s++) {
    const [x, y] = batches[s % 2]!;
    // backends differ in the last bits: compare each model with its own eager twin, on the same backend
    expect(compiled.trainOnBatch(x, y)).toStrictEqual(eager.trainOnBatch(x, y));
  }
  expect(compiled.compiledStepStatus(...batches[0]!)).toBe("compiled");
  expect(weightsOf(compiled)).toStrictEqual(weightsOf(eager));
  for (const t of [eager, compiled]) t.dispose();
  for (const [x, y] of batches) for (const t of [x, y]) t.dispose();
  await setBackend(first);
});

forEachBackend("compiled predict", () => {
  test("predict replays its forward pass: the same values as the eager path, a new tensor each call, and the weights as they are now", () => {
    const random = seeded(5);
    const x = inputs(37, random);
    const y = oneHotRows(37, random);
    const last: LayerSpec = { type: "dense", units: 3, activation: "softmax" };
    const eager = model(last, { loss: "categoricalCrossEntropy", optimizer: adam({ lr: 0.01 }), compiledSteps: false });
    const compiled = model(last, { loss: "categoricalCrossEntropy", optimizer: adam({ lr: 0.01 }) });
    const outputs: Tensor[] = [];
    for (let round = 0; round < 4; round++) {
      // batches of 16, 16 and 5: two shapes, each compiled after two runs
      const a = eager.predict(x, { batchSize: 16 });
      const b = compiled.predict(x, { batchSize: 16 });
      expect(Array.from(b.dataSync())).toStrictEqual(Array.from(a.dataSync()));
      outputs.push(b);
      a.dispose();
      // training between calls changes the weights in place; the replay reads them as they are
      eager.trainOnBatch(x, y);
      compiled.trainOnBatch(x, y);
    }
    const batchOf16 = inputs(16, random);
    expect(compiled.compiledStepStatus(batchOf16)).toBe("compiled");
    batchOf16.dispose();
    // each call's tensor is its own: later replays did not overwrite the earlier ones
    expect(new Set(outputs.map((t) => t.dataSync().join(","))).size).toBe(outputs.length);
    for (const t of outputs) t.dispose();
    // a weight assigned from outside has a new buffer: the plan follows it
    for (const m of [eager, compiled]) {
      const w = m.trainableWeights[1]!;
      const scaled = w.mul(1.5);
      w.assign(scaled);
      scaled.dispose();
    }
    const a = eager.predict(x, { batchSize: 16 });
    const b = compiled.predict(x, { batchSize: 16 });
    expect(Array.from(b.dataSync())).toStrictEqual(Array.from(a.dataSync()));
    for (const t of [a, b, x, y, eager, compiled]) t.dispose();
  });

  test("a batch too large to copy in is bound where it is: a new input each call gives the eager values", () => {
    // 20,000 × 4 values, above the plan's copy limit (2^16): the plan reads each call's own input buffer
    const random = seeded(13);
    const eager = model(LOSSES.mse!.last, { loss: "mse", optimizer: sgd(), compiledSteps: false });
    const compiled = model(LOSSES.mse!.last, { loss: "mse", optimizer: sgd() });
    for (let call = 0; call < 4; call++) {
      const x = inputs(20_000, random);
      const a = eager.predict(x, { batchSize: 20_000 });
      const b = compiled.predict(x, { batchSize: 20_000 });
      expect(Array.from(b.dataSync())).toStrictEqual(Array.from(a.dataSync()));
      if (call >= 2) expect(compiled.compiledStepStatus(x)).toBe("compiled");
      for (const t of [a, b, x]) t.dispose();
    }
    eager.dispose();
    compiled.dispose();
  });

  test("memory stays flat across compiled predicts, and dispose frees the plans", () => {
    const before = held();
    const random = seeded(9);
    const x = inputs(12, random);
    const m = model(LOSSES.mse!.last, { loss: "mse", optimizer: sgd() });
    for (let i = 0; i < 3; i++) m.predict(x).dispose();
    expect(m.compiledStepStatus(x)).toBe("compiled");
    const during = held();
    for (let i = 0; i < 30; i++) m.predict(x).dispose();
    expect(held()).toEqual(during);
    m.dispose();
    x.dispose();
    expect(held()).toEqual(before);
  });
});
