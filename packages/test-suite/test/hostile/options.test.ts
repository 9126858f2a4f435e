/**
 * Hostile options for every entry point of training (fit, evaluate, predict, trainOnBatch, compile), the
 * optimizers, losses, initializers, callbacks and layer configs: each is refused by the one shared validator
 * with an ArgumentError naming the option, the value and what is expected (or the closest known key), and
 * the model is unchanged afterwards: same tensor count, same predictions.
 */
import {
  ArgumentError, NeuriteError, type Sequential, type Tensor, adam, adamW, earlyStopping, memory, rmsprop, sequential, sgd, tensor,
} from "@neurite/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { forEachBackend } from "../../src/backends.js";
import { expectRefused, expectRefusedAsync, throwingGetter } from "../../src/hostile.js";

/** Values no count (batchSize, epochs) may take; each must be refused, never looped on or rounded. */
const BAD_COUNTS: readonly unknown[] = [0, -1, -0.5, NaN, 2.5, Infinity, -Infinity, 2 ** 53, 1e300, "4", null, true, [4], {}];

/** Option objects that are not objects of named options. */
const BAD_OPTION_OBJECTS: readonly unknown[] = [null, 5, "batchSize", [32], true, () => 1, new Date(0)];

forEachBackend("hostile options", () => {
  let model: Sequential;
  let x: Tensor;
  let y: Tensor;
  let reference: number[];
  let baseline: number;

  beforeAll(() => {
    x = tensor([[0, 1], [1, 0], [1, 1], [0, 0], [0.5, -0.5]]);
    y = tensor([[1], [1], [0], [0], [0.5]]);
    model = sequential([{ type: "dense", units: 3, activation: "linear", inputShape: [2] }, { type: "dense", units: 1 }], { seed: 7 });
    model.compile({ optimizer: sgd({ lr: 0.1 }), loss: "mse" });
    const p = model.predict(x);
    reference = [...p.dataSync()];
    p.dispose();
    baseline = memory().tensors;
  });

  afterAll(() => {
    // the model is intact after every refused call: same tensor count, same predictions
    expect(memory().tensors).toBe(baseline);
    const p = model.predict(x);
    expect([...p.dataSync()]).toEqual(reference);
    p.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  });

  describe("counts are positive integers (no hang, no NaN window)", () => {
    test.each(BAD_COUNTS.map((v) => [String(v), v]))("predict batchSize %s", (_, bs) => {
      expectRefused(() => model.predict(x, { batchSize: bs as number }), ArgumentError, ["predict: batchSize must be a positive integer, got"]);
    });
    test.each(BAD_COUNTS.map((v) => [String(v), v]))("evaluate batchSize %s", (_, bs) => {
      expectRefused(() => model.evaluate(x, y, { batchSize: bs as number }), ArgumentError, ["evaluate: batchSize must be a positive integer, got"]);
    });
    test.each(BAD_COUNTS.map((v) => [String(v), v]))("fit batchSize and epochs %s", async (_, v) => {
      await expectRefusedAsync(() => model.fit(x, y, { batchSize: v as number }), ArgumentError, ["fit: batchSize must be a positive integer, got"]);
      await expectRefusedAsync(() => model.fit(x, y, { epochs: v as number }), ArgumentError, ["fit: epochs must be a positive integer, got"]);
    });
    test("a batch size larger than the data is one batch, and the result equals predict at once", () => {
      const p = model.predict(x, { batchSize: 2 ** 40 });
      expect([...p.dataSync()]).toEqual(reference);
      p.dispose();
      const chunked = model.predict(x, { batchSize: 2 });
      expect([...chunked.dataSync()]).toEqual(reference);
      chunked.dispose();
    });
  });

  describe("option objects that are not objects", () => {
    test.each(BAD_OPTION_OBJECTS.map((v) => [typeof v === "function" ? "a function" : JSON.stringify(v), v]))("%s", async (_, bad) => {
      expectRefused(() => model.predict(x, bad as never), ArgumentError, ["predict: options must be a plain object", "batchSize"]);
      expectRefused(() => model.evaluate(x, y, bad as never), ArgumentError, ["evaluate: options must be a plain object"]);
      await expectRefusedAsync(() => model.fit(x, y, bad as never), ArgumentError, ["fit: options must be a plain object", "epochs"]);
      expectRefused(() => sgd(bad as never), ArgumentError, ["sgd: options must be a plain object", "lr"]);
      expectRefused(() => model.compile(bad as never), ArgumentError, ["compile: options must be a plain object", "optimizer"]);
    });
    test("an object without a prototype is a valid options object", () => {
      const o = Object.create(null) as { batchSize?: number };
      o.batchSize = 2;
      const p = model.predict(x, o);
      expect([...p.dataSync()]).toEqual(reference);
      p.dispose();
    });
    test("a getter that throws is reported, not propagated raw", async () => {
      expectRefused(() => model.predict(x, throwingGetter("batchSize")), ArgumentError, ["predict: the options object could not be read", "getter exploded"]);
      await expectRefusedAsync(() => model.fit(x, y, throwingGetter("epochs")), ArgumentError, ["fit: the options object could not be read"]);
      expectRefused(() => adam(throwingGetter("lr")), ArgumentError, ["adam: the options object could not be read"]);
    });
    test("a Proxy whose traps throw, an own __proto__ key, a huge key, symbol keys", () => {
      const trap = new Proxy({}, { ownKeys: () => { throw new Error("trap exploded"); } });
      expectRefused(() => model.predict(x, trap), ArgumentError, ["predict: the options object could not be read", "trap exploded"]);
      expectRefused(() => model.predict(x, JSON.parse('{"__proto__": {"batchSize": 0}}') as never), ArgumentError, ['predict: unknown option "__proto__"']);
      expectRefused(() => sgd({ ["l".repeat(100_000)]: 1 }), ArgumentError, ["sgd: unknown option", "sgd takes: lr"]);
      const p = model.predict(x, { [Symbol("tag")]: 1, batchSize: 3 });
      expect([...p.dataSync()]).toEqual(reference);
      p.dispose();
    });
    test("layer lists and layer specs that are not layers", () => {
      for (const bad of [null, "dense", [], {}]) {
        expectRefused(() => sequential(bad as never), ArgumentError, ["sequential: needs a non-empty array of layers"]);
      }
      for (const bad of [[null], [5], [{ units: 3 }], [[{ type: "dense", units: 1 }]]]) {
        expectRefused(() => sequential(bad as never), ArgumentError, ["a layer must be { type, ...config }"]);
      }
    });
    test("inherited keys are not options: a polluted prototype changes nothing", () => {
      const o = Object.create({ batchSize: 0 }) as { batchSize?: number };
      expectRefused(() => model.predict(x, o), ArgumentError, ["predict: options must be a plain object"]);
    });
  });

  describe("unknown keys are refused with the closest known one", () => {
    test("fit, evaluate, predict", async () => {
      await expectRefusedAsync(() => model.fit(x, y, { epoch: 3 } as never), ArgumentError, ['fit: unknown option "epoch"; did you mean "epochs"?', "fit takes: epochs, batchSize"]);
      await expectRefusedAsync(() => model.fit(x, y, { batch_size: 2 } as never), ArgumentError, ['unknown option "batch_size"; did you mean "batchSize"?']);
      await expectRefusedAsync(() => model.fit(x, y, { validation_split: 0.2 } as never), ArgumentError, ['did you mean "validationSplit"?']);
      expectRefused(() => model.predict(x, { batchsize: 2 } as never), ArgumentError, ['predict: unknown option "batchsize"; did you mean "batchSize"?']);
      expectRefused(() => model.evaluate(x, y, { verbose: 0 } as never), ArgumentError, ['evaluate: unknown option "verbose"', "evaluate takes: batchSize"]);
    });
    test("optimizers: sgd({ learningRate }) no longer trains silently at the default", () => {
      expectRefused(() => sgd({ learningRate: 0.5 } as never), ArgumentError, ['sgd: unknown option "learningRate"; did you mean "lr"?', "sgd takes: lr, momentum"]);
      expectRefused(() => adam({ beta_1: 0.8 } as never), ArgumentError, ['adam: unknown option "beta_1"; did you mean "beta1"?']);
      expectRefused(() => adamW({ weight_decay: 0.1 } as never), ArgumentError, ['adamW: unknown option "weight_decay"; did you mean "weightDecay"?']);
      expectRefused(() => rmsprop({ rho: 0.9 } as never), ArgumentError, ['rmsprop: unknown option "rho"; did you mean "alpha"?']);
      expectRefused(() => adam({ epsilon: 1e-7 } as never), ArgumentError, ['adam: unknown option "epsilon"; did you mean "eps"?']);
    });
    test("compile and losses", () => {
      expectRefused(() => model.compile({ optimizer: "sgd", loss: "mse", metric: ["accuracy"] } as never), ArgumentError, ['compile: unknown option "metric"; did you mean "metrics"?']);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: { name: "binaryCrossEntropy", fromLogit: true } } as never), ArgumentError, ['unknown option "fromLogit"; did you mean "fromLogits"?']);
      expectRefused(() => model.compile({ loss: "mse" } as never), ArgumentError, ["compile: optimizer is required"]);
      expectRefused(() => model.compile({ optimizer: "sgd" } as never), ArgumentError, ["compile: loss is required"]);
    });
    test("layer configs and initializers", () => {
      expectRefused(() => sequential([{ type: "dense", unit: 3, inputShape: [2] } as never]), ArgumentError, ['layer dense: unknown config field "unit"; did you mean "units"?']);
      expectRefused(() => sequential([{ type: "dropout", rat: 0.5 } as never]), ArgumentError, ['unknown config field "rat"; did you mean "rate"?']);
      expectRefused(
        () => sequential([{ type: "dense", units: 2, inputShape: [2], kernelInitializer: { name: "normal", stddev: 0.1 } } as never]),
        ArgumentError, ['unknown option "stddev"; did you mean "std"?'],
      );
      expectRefused(() => sequential([{ type: "dense", units: 2, inputShape: [2], kernelInitializer: { name: "glorotUniform", seed: 3 } } as never]), ArgumentError, ['unknown option "seed"', "takes no options"]);
    });
    test("callbacks and the model's own options", () => {
      expectRefused(() => earlyStopping(model, { patient: 3 } as never), ArgumentError, ['earlyStopping: unknown option "patient"; did you mean "patience"?']);
      expectRefused(() => sequential([{ type: "dense", units: 1, inputShape: [2] }], { sed: 1 } as never), ArgumentError, ['sequential: unknown option "sed"; did you mean "seed"?']);
      expectRefused(() => model.apply(x, { train: true } as never), ArgumentError, ['apply: unknown option "train"; did you mean "training"?']);
    });
  });

  describe("values are checked where they are given", () => {
    test("fit's other options", async () => {
      for (const split of [NaN, 0, 1, -0.1, Infinity, "0.5"]) {
        await expectRefusedAsync(() => model.fit(x, y, { validationSplit: split as number }), ArgumentError, ["fit: validationSplit must be", "got"]);
      }
      await expectRefusedAsync(() => model.fit(x, y, { shuffle: "yes" as never }), ArgumentError, ['fit: shuffle must be true or false, got "yes"']);
      await expectRefusedAsync(() => model.fit(x, y, { callbacks: {} as never }), ArgumentError, ["fit: callbacks must be an array of callbacks"]);
      await expectRefusedAsync(() => model.fit(x, y, { callbacks: [null] as never }), ArgumentError, ["fit: callbacks must be an array of callbacks"]);
      await expectRefusedAsync(() => model.fit(x, y, { callbacks: [{ onEpochEnd: 5 }] as never }), ArgumentError, ["fit: callbacks[0].onEpochEnd must be a function"]);
      await expectRefusedAsync(() => model.fit(x, y, { validationData: [x] as never }), ArgumentError, ["fit: validationData must be [x, y], a pair of tensors"]);
      await expectRefusedAsync(() => model.fit(x, y, { validationSplit: 0.99 }), ArgumentError, ["fit: validationSplit 0.99 of 5 samples leaves no sample to train on"]);
    });
    test("optimizer options and setters", () => {
      expectRefused(() => sgd({ nesterov: "yes" as never, momentum: 0.9 }), ArgumentError, ['sgd: nesterov must be true or false, got "yes"']);
      expectRefused(() => adam({ amsgrad: 1 as never }), ArgumentError, ["adam: amsgrad must be true or false, got 1"]);
      expectRefused(() => adam({ lr: NaN }), ArgumentError, ["adam: lr must be a non-negative number, got NaN"]);
      expectRefused(() => adam({ beta1: 1 }), ArgumentError, ["adam: beta1 must be in [0, 1), got 1"]);
      expectRefused(() => rmsprop({ eps: Infinity }), ArgumentError, ["rmsprop: eps must be a non-negative number, got Infinity"]);
      for (const make of [() => sgd({ lr: 0.1 }), () => adam({ lr: 0.1 }), () => adamW({ lr: 0.1 }), () => rmsprop({ lr: 0.1 })]) {
        const opt = make();
        for (const bad of [-5, NaN, Infinity, "0.1", null, undefined]) {
          expectRefused(() => { opt.lr = bad as number; }, ArgumentError, [`${opt.name}: lr must be a non-negative number, got`]);
          expect(opt.lr).toBe(0.1);
        }
        opt.lr = 0.25;
        expect(opt.lr).toBe(0.25);
        opt.dispose();
      }
    });
    test("a changed learning rate is the one the step uses", () => {
      const m = sequential([{ type: "dense", units: 1, inputShape: [2] }], { seed: 1 });
      const opt = sgd({ lr: 0.1 });
      m.compile({ optimizer: opt, loss: "mse" });
      const before = m.weights.map((w) => [...w.dataSync()]);
      opt.lr = 0;
      m.trainOnBatch(x, y);
      expect(m.weights.map((w) => [...w.dataSync()])).toEqual(before);
      m.dispose();
    });
    test("losses, metrics, initializers, layer fields", () => {
      expectRefused(() => model.compile({ optimizer: "sgd", loss: { name: "binaryCrossEntropy", fromLogits: "yes" as never } }), ArgumentError, ['fromLogits must be true or false, got "yes"']);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: "mse", metrics: "accuracy" as never }), ArgumentError, ["compile: metrics must be an array"]);
      for (const [init, msg] of [
        [{ name: "constant", value: NaN }, "value must be a finite number, got NaN"],
        [{ name: "constant" }, "value must be a finite number, got undefined"],
        [{ name: "normal", std: -1 }, "std must be a finite number >= 0, got -1"],
        [{ name: "uniform", min: 1, max: 0 }, "min must be <= max, got min=1, max=0"],
        [{ name: "uniform", max: Infinity }, "max must be a finite number, got Infinity"],
      ] as const) {
        expectRefused(() => sequential([{ type: "dense", units: 2, inputShape: [2], kernelInitializer: init as never }]), ArgumentError, [msg]);
      }
      for (const units of [0, 2.5, NaN, 2 ** 53, "3", -0.0001]) {
        expectRefused(() => sequential([{ type: "dense", units: units as number, inputShape: [2] }]), ArgumentError, ["layer dense: units must be a positive integer, got"]);
      }
      for (const shape of [[2.5], [0], "2", [Infinity], [2 ** 53], {}]) {
        expectRefused(() => sequential([{ type: "dense", units: 1, inputShape: shape as never }]), ArgumentError, ["layer dense: inputShape must be an array of positive integers"]);
      }
      expectRefused(() => sequential([{ type: "dropout", rate: NaN }]), ArgumentError, ["layer dropout: rate must be in [0, 1), got NaN"]);
      expectRefused(() => earlyStopping(model, { minDelta: NaN }), ArgumentError, ["earlyStopping: minDelta must be a finite number >= 0, got NaN"]);
      expectRefused(() => earlyStopping(model, { mode: "minimum" as never }), ArgumentError, ['earlyStopping: mode must be one of "min", "max", got "minimum"']);
      expectRefused(() => sequential([{ type: "dense", units: 1, inputShape: [2] }], { seed: NaN }), ArgumentError, ["sequential: seed must be a finite number, got NaN"]);
      expectRefused(() => model.apply(x, { logits: true }), ArgumentError, ["apply: logits needs a last layer that ends in a softmax"]);
    });
  });

  describe("tensor arguments", () => {
    test("trainOnBatch, fit, evaluate and predict refuse what is not a tensor with samples", async () => {
      for (const bad of [[[0, 1]], 3, null, undefined, "x"]) {
        expectRefused(() => model.predict(bad as never), ArgumentError, ["predict: x must be a tensor"]);
        expectRefused(() => model.trainOnBatch(x, bad as never), ArgumentError, ["trainOnBatch: y must be a tensor"]);
        expectRefused(() => model.evaluate(bad as never, y), ArgumentError, ["evaluate: x must be a tensor"]);
        await expectRefusedAsync(() => model.fit(x, bad as never), ArgumentError, ["fit: y must be a tensor"]);
      }
      const few = tensor([[1], [2]]);
      expectRefused(() => model.evaluate(x, few), NeuriteError, ["evaluate: x has 5 samples", "but y has 2"]);
      expectRefused(() => model.trainOnBatch(x, few), NeuriteError, ["trainOnBatch: x has 5 samples", "but y has 2"]);
      few.dispose();
      const empty = tensor([], [0, 2]);
      const emptyY = tensor([], [0, 1]);
      expectRefused(() => model.evaluate(empty, emptyY), ArgumentError, ["evaluate: x has no samples"]);
      await expectRefusedAsync(() => model.fit(empty, emptyY), ArgumentError, ["fit: x has no samples"]);
      empty.dispose();
      emptyY.dispose();
    });
  });
});
