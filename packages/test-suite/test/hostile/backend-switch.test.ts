/**
 * Hostile: switching the active backend while models, optimizer state and tensors are alive.
 *
 * The rule under test (packages/core/README.md, "Tensors and backends"): an op moves each operand whose data
 * lives on another backend to the active one, in place — the tensor object (a Variable, a model weight, an
 * optimizer moment) stays valid and now lives on the active backend, its old buffer is freed, and nothing
 * extra is left to dispose. Every test runs in both directions between cpu and each other backend, and the
 * reference for each result is the same computation done without switching.
 */
import {
  type Backend, type Sequential, type Tensor, Variable, add, adam, applyActivation, backendInstance,
  bindActivation, defineActivation, gather, getBackend, matmul, memory, mse, noGrad, removeBackend, scope,
  sequential, setBackend, sgd, sum, tensor, uniform, use, valueAndGradOf,
} from "@neurite/core";
import type { ActivationKernel } from "@neurite/core";
import type { CpuBuffer } from "@neurite/backend-cpu";
import { cpuBackend } from "@neurite/backend-cpu";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { softmaxFamily } from "@neurite/activations-softmax";
import { describe, expect, test } from "vitest";
import { expectClose } from "../../src/assert.js";
import { BACKENDS, registerBackends } from "../../src/backends.js";

registerBackends();
use(reluFamily, sigmoidFamily, softmaxFamily);

/** cpu against every other backend, both ways. */
const PAIRS: [string, string][] = BACKENDS.filter((b) => b !== "cpu").flatMap((b): [string, string][] => [["cpu", b], [b, "cpu"]]);

/** Parity between backends: float32 kernels that sum in different orders. */
const PARITY = { rtol: 1e-4, atol: 1e-5 };

/** Buffers and bytes that every backend itself reports, summed: a leaked buffer on either side shows here. */
async function buffersEverywhere(): Promise<{ tensors: number; bytes: number; buffers: number; backendBytes: number }> {
  let buffers = 0;
  let backendBytes = 0;
  for (const name of BACKENDS) {
    const b: Backend = await backendInstance(name);
    const m = b.memory();
    buffers += m.buffers;
    backendBytes += m.bytes;
  }
  const m = memory();
  return { tensors: m.tensors, bytes: m.bytes, buffers, backendBytes };
}

function data(seed: number): { x: Tensor; y: Tensor } {
  return { x: uniform([24, 3], { seed, min: -1, max: 1 }), y: uniform([24, 2], { seed: seed + 1, min: 0, max: 1 }) };
}

/** A small model whose dense layers take the fused matmul-epilogue path where the backend has one, plus a softmax head. */
function makeModel(): Sequential {
  const model = sequential([
    { type: "dense", units: 8, activation: "tanh", inputShape: [3] },
    { type: "dense", units: 6, activation: "relu" },
    { type: "dense", units: 2, activation: "softmax" },
  ], { seed: 7 });
  // these tests count the buffers that move between backends; a compiled step's plan is a cache the model keeps
  // (freed at the first step on the new backend), counted by the compiled-steps tests instead
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "mse", compiledSteps: false });
  return model;
}

const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** The weights and every Adam moment of a model, flattened, in a fixed order. */
function trainingState(model: Sequential): number[] {
  const out: number[] = [];
  for (const w of model.trainableWeights) {
    out.push(...values(w));
    const s = model.optimizer.state!(w);
    for (const k of ["m", "v"]) out.push(...values(s[k]!));
  }
  return out;
}

describe.each(PAIRS)("a model built on %s, used after setBackend(%s)", (from, to) => {
  test("predict, apply, valueAndGradOf, evaluate and fit work and agree with the results before the switch", async () => {
    await setBackend(from);
    const { x, y } = data(1);
    const model = makeModel();
    await model.fit(x, y, { epochs: 3, batchSize: 8 });
    const before = {
      predict: values(model.predict(x)),
      apply: noGrad(() => values(model.apply(x))),
      loss: model.evaluate(x, y).loss!,
      grads: scope(() => valueAndGradOf(() => mse(y, model.apply(x, { training: true })), model.trainableWeights).grads.map(values)),
    };
    const baseline = await buffersEverywhere();

    await setBackend(to);
    const predicted = model.predict(x);
    expect(predicted.backend).toBe(getBackend());
    expectClose(predicted.dataSync(), before.predict, PARITY, "predict after the switch");
    predicted.dispose();
    const applied = noGrad(() => model.apply(x));
    expectClose(applied.dataSync(), before.apply, PARITY, "apply after the switch");
    applied.dispose();
    expect(model.evaluate(x, y).loss).toBeCloseTo(before.loss, 5);
    scope(() => {
      const { grads } = valueAndGradOf(() => mse(y, model.apply(x, { training: true })), model.trainableWeights);
      grads.forEach((g, i) => expectClose(g.dataSync(), before.grads[i]!, PARITY, `gradient ${i} after the switch`));
    });
    // the weights, the data and the optimizer's moments now live on the active backend: nothing was copied, nothing leaked
    for (const w of model.trainableWeights) expect(w.backend).toBe(getBackend());
    expect(await buffersEverywhere()).toEqual(baseline);

    const history = await model.fit(x, y, { epochs: 2, batchSize: 8 });
    expect(history.history.loss).toHaveLength(2);
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);
    for (const w of model.trainableWeights) for (const t of Object.values(model.optimizer.state!(w))) expect(t.backend).toBe(getBackend());
    expect(await buffersEverywhere()).toEqual(baseline);

    model.dispose();
    x.dispose();
    y.dispose();
  });

  test("training continues across two switches with the optimizer state carried (same as never switching)", async () => {
    await setBackend(from);
    const { x, y } = data(3);
    const switched = makeModel();
    const stayed = makeModel();
    for (let i = 0; i < 3; i++) {
      switched.trainOnBatch(x, y);
      stayed.trainOnBatch(x, y);
    }
    expect(trainingState(switched)).toEqual(trainingState(stayed));

    await setBackend(to);
    switched.trainOnBatch(x, y);
    await setBackend(from);
    switched.trainOnBatch(x, y);
    await setBackend(from);
    stayed.trainOnBatch(x, y);
    stayed.trainOnBatch(x, y);
    // weights and Adam moments (m, v) after two more steps, one of them taken on the other backend
    expectClose(trainingState(switched), trainingState(stayed), PARITY, "weights and Adam moments");
    for (const w of switched.trainableWeights) expect(w.backend).toBe(getBackend());

    switched.dispose();
    stayed.dispose();
    x.dispose();
    y.dispose();
  });

  test("an SGD-with-momentum buffer made on one backend is updated on the other", async () => {
    await setBackend(from);
    const w = new Variable(tensor([1, -2, 3]), "w");
    const reference = new Variable(tensor([1, -2, 3]), "reference");
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const ref = sgd({ lr: 0.1, momentum: 0.9 });
    const step = (o: typeof opt, v: Variable): void =>
      scope(() => o.step([v], valueAndGradOf(() => sum(v.mul(v).mul(v)), [v]).grads));
    step(opt, w);
    step(ref, reference);
    await setBackend(to);
    step(opt, w);
    // the buffer itself moved (a copy per step would leave it behind and re-upload it every time)
    expect(opt.state!(w).momentum!.backend).toBe(getBackend());
    await setBackend(from);
    step(ref, reference);
    expectClose(w.dataSync(), reference.dataSync(), PARITY, "parameter");
    expectClose(opt.state!(w).momentum!.dataSync(), ref.state!(reference).momentum!.dataSync(), PARITY, "momentum buffer");
    for (const t of [w, reference]) t.dispose();
    opt.dispose();
    ref.dispose();
  });
});

describe.each(PAIRS)("tensors of %s mixed with tensors of %s", (from, to) => {
  test("100 × add(other-backend tensor, active tensor).dispose() leaves every count at its baseline", async () => {
    await setBackend(from);
    const a = tensor([1, 2, 3]);
    await setBackend(to);
    const b = tensor([10, 20, 30]);
    const baseline = await buffersEverywhere();
    for (let i = 0; i < 100; i++) add(a, b).dispose();
    expect(await buffersEverywhere()).toEqual(baseline);
    // a now lives on the active backend, with its values
    expect(a.backend).toBe(getBackend());
    expect(values(a)).toEqual([1, 2, 3]);
    a.dispose();
    b.dispose();
  });

  test("a move while data() is in flight does not free the buffer being read", async () => {
    await setBackend(from);
    const a = tensor([1, 2, 3]);
    await setBackend(to);
    const baseline = await buffersEverywhere();
    const pending = a.data();
    add(a, 1).dispose(); // moves a before the read above has run
    expect(Array.from(await pending)).toEqual([1, 2, 3]);
    expect(await buffersEverywhere()).toEqual(baseline);
    a.dispose();
  });

  test("matmul, gather and reductions over a moved tensor free nothing twice and leak nothing", async () => {
    await setBackend(from);
    const a = tensor([[1, 2], [3, 4]]);
    const shared = a.reshape([4]); // shares a's buffer: both move together
    await setBackend(to);
    const baseline = await buffersEverywhere();
    for (let i = 0; i < 10; i++) {
      matmul(a, a).dispose();
      gather(a, [1, 0]).dispose();
      sum(shared).dispose();
    }
    expect(shared.backend).toBe(getBackend());
    expect(values(shared)).toEqual([1, 2, 3, 4]);
    expect(await buffersEverywhere()).toEqual(baseline);
    a.dispose();
    expect(values(shared)).toEqual([1, 2, 3, 4]);
    shared.dispose();
  });

  test("failed calls after a switch leave every count at its baseline", async () => {
    await setBackend(from);
    const model = makeModel();
    const { x, y } = data(5);
    model.predict(x).dispose(); // builds the model on `from`
    const wrong = tensor([[1, 2]]);
    await setBackend(to);
    const baseline = await buffersEverywhere();
    expect(() => model.predict(wrong)).toThrow(/expected inputs of shape \[batch, 3\]/);
    expect(() => model.trainOnBatch(x, wrong)).toThrow();
    expect(await buffersEverywhere()).toEqual(baseline);
    // and a call that succeeds gives back exactly one tensor, its result
    const p = model.predict(x);
    expect(memory().tensors).toBe(baseline.tensors + 1);
    p.dispose();
    expect(await buffersEverywhere()).toEqual(baseline);
    for (const t of [x, y, wrong]) t.dispose();
    model.dispose();
  });

  test("a backward pass that straddles a switch moves the tape's saved tensors (gather, hand-written kernels, epilogue)", async () => {
    // softsign with a hand-written kernel for the cpu backend only: the forward may run it, the backward runs on `to`
    const kernel: ActivationKernel = {
      forward(_b, { x, out, size }) {
        const [xs, ys] = [(x as CpuBuffer).data, (out as CpuBuffer).data];
        for (let i = 0; i < size; i++) ys[i] = xs[i]! / (1 + Math.abs(xs[i]!));
      },
      backward(_b, { x, g, out, size }) {
        const [xs, gs, os] = [(x as CpuBuffer).data, (g as CpuBuffer).data, (out as CpuBuffer).data];
        for (let i = 0; i < size; i++) os[i] = gs[i]! / (1 + Math.abs(xs[i]!)) ** 2;
      },
    };
    const softsign = bindActivation({
      ...defineActivation({
        name: "switchSoftsign", family: "test", package: "test-suite", version: "0.0.0", description: "x / (1 + |x|)", params: {},
        meta: { range: [-1, 1], monotonic: true, smoothAtZero: true },
        formula: (x) => x.div(x.abs().add(1)),
      }),
      kernels: { cpu: kernel },
    });
    await setBackend(from);
    const model = makeModel();
    const { x, y } = data(9);
    const table = new Variable(tensor([[0.5, -1], [2, 0.25], [-3, 1.5]]), "table");
    const loss = (switchTo?: string): Tensor => {
      const rows = gather(table, [2, 0, 2, 1]);
      const h = applyActivation(rows, softsign);
      const out = model.apply(x, { training: true });
      // an un-awaited setBackend switches at once when the backend already exists: the backward runs there
      if (switchTo) void setBackend(switchTo);
      return add(sum(h.mul(h)), mse(y, out));
    };
    const wrt = [table, ...model.trainableWeights];
    const reference = scope(() => valueAndGradOf(() => loss(), wrt).grads.map(values));
    const baseline = await buffersEverywhere();
    scope(() => {
      const { grads } = valueAndGradOf(() => loss(to), wrt);
      expect(getBackend().name).toBe(to);
      grads.forEach((g, i) => expectClose(g.dataSync(), reference[i]!, PARITY, `gradient ${i}`));
    });
    expect(await buffersEverywhere()).toEqual(baseline);
    await setBackend(from);
    table.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  });
});

describe("setBackend and removeBackend leave state intact", () => {
  test("setBackend to an unregistered name rejects, keeps the active backend, and the model keeps working", async () => {
    await setBackend("cpu");
    const active = getBackend();
    const model = makeModel();
    const { x } = data(11);
    const p = values(model.predict(x));
    const baseline = await buffersEverywhere();
    await expect(setBackend("wsam")).rejects.toThrow(/unknown backend "wsam"/);
    expect(getBackend()).toBe(active);
    expect(await buffersEverywhere()).toEqual(baseline);
    const again = model.predict(x);
    expect(values(again)).toEqual(p);
    again.dispose();
    model.dispose();
    x.dispose();
  });

  test("removeBackend moves the live tensors of a backend that is not active to the active one", async () => {
    use({ ...cpuBackend, name: "cpu-doomed" });
    await setBackend("cpu-doomed");
    const doomed = getBackend();
    const t = tensor([4, 5, 6]);
    const v = new Variable(tensor([7, 8]), "v");
    await setBackend("cpu");
    const before = memory();
    removeBackend("cpu-doomed");
    expect(t.backend).toBe(getBackend());
    expect(v.backend).toBe(getBackend());
    expect(values(t)).toEqual([4, 5, 6]);
    expect(values(v)).toEqual([7, 8]);
    expect(doomed.memory().buffers).toBe(0);
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().bytes).toBe(before.bytes);
    t.dispose();
    v.dispose();
  });

  test("removeBackend of the active backend while tensors live on it refuses, naming them, and changes nothing", async () => {
    use({ ...cpuBackend, name: "cpu-busy" });
    await setBackend("cpu-busy");
    const busy = getBackend();
    const t = tensor([1, 2]);
    expect(() => removeBackend("cpu-busy")).toThrow(/removeBackend\("cpu-busy"\): 1 live tensor buffer \(8 bytes\) still on it/);
    expect(getBackend()).toBe(busy);
    expect(values(t)).toEqual([1, 2]);
    t.dispose();
    removeBackend("cpu-busy");
    await setBackend("cpu");
  });

  test("memory() reports what each backend holds; a move shifts it from one to the other", async () => {
    await setBackend("cpu");
    const t = tensor(new Array<number>(10).fill(1));
    const to = BACKENDS.find((b) => b !== "cpu")!;
    await setBackend(to);
    const before = memory();
    expect(before.byBackend?.cpu?.bytes).toBeGreaterThanOrEqual(40);
    add(t, 0).dispose();
    const after = memory();
    expect(after.byBackend!.cpu!.bytes).toBe(before.byBackend!.cpu!.bytes - 40);
    expect(after.byBackend!.cpu!.buffers).toBe(before.byBackend!.cpu!.buffers - 1);
    expect(after.byBackend![to]!.bytes).toBe((before.byBackend![to]?.bytes ?? 0) + 40);
    expect(after.bytes).toBe(before.bytes);
    t.dispose();
  });
});
