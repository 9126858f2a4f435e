/**
 * Hostile names and calls: unknown names get the closest registered one ("did you mean"), prototype keys
 * ("constructor", "toString", "__proto__") are never found in a registry or a parameter table, and every
 * error a user can trigger (predict on a scalar or after dispose, use(undefined), a broken layer plugin, a
 * progress callback without sizes) is a NeuriteError that says what is wrong and what to do, with the
 * registries and the tensor count unchanged.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { softmaxFamily } from "@neurite/activations-softmax";
import {
  ArgumentError, NeuriteError, RegistryError, ShapeError, activations, applyActivation, defineLayer, layers, listBackends, memory, progressCallback,
  resolveActivation, sequential, setBackend, sgd, tensor, use, zeros, type Progress,
} from "@neurite/core";
import { beforeAll, describe, expect, test } from "vitest";
import { forEachBackend } from "../../src/backends.js";
import { expectRefused, expectRefusedAsync } from "../../src/hostile.js";

const PROTOTYPE_KEYS = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf", "isPrototypeOf"];

/** The registries' contents, to prove a refused call registered nothing. */
function registryState(): string {
  return JSON.stringify([activations.names(), layers.names(), listBackends()]);
}

forEachBackend("hostile names and errors", (backend) => {
  beforeAll(() => {
    use(reluFamily, sigmoidFamily, softmaxFamily);
  });

  describe("did you mean", () => {
    test.each([
      ["eluu", "elu"], ["leaky_relu", "leakyRelu"], ["LeakyReLU", "leakyRelu"], ["Sigmoid", "sigmoid"], ["soft_max", "softmax"], ["relu7", "relu6"],
    ])("activation %s → %s", (typo, right) => {
      expectRefused(() => resolveActivation(typo), RegistryError, [`unknown activation ${JSON.stringify(typo)}; did you mean ${JSON.stringify(right)}?`, "registered activations:"]);
      expectRefused(() => sequential([{ type: "dense", units: 1, activation: typo as never, inputShape: [2] }]), RegistryError, [`did you mean ${JSON.stringify(right)}?`]);
    });
    test("applyActivation with its arguments swapped, or a name for the bound activation, says how to call it", () => {
      const x = tensor([[1, -2]]);
      expectRefused(() => applyActivation("softmax" as never, resolveActivation("softmax")), ArgumentError, ["x must be a tensor", 'applyActivation(x, resolveActivation("relu"))']);
      expectRefused(() => applyActivation(x, "relu" as never), ArgumentError, ["spec must be a bound activation from resolveActivation(...)", '"relu"']);
      x.dispose();
    });
    test("an activation that is not installed names its package", () => {
      expectRefused(() => resolveActivation("gelu_"), RegistryError, ['did you mean "gelu"?', "@neurite/activations-smooth"]);
    });
    test.each([["binaryCrossentropy", "binaryCrossEntropy"], ["categorical_crossentropy", "categoricalCrossEntropy"], ["MSE", "mse"], ["sparseCategoricalCrossEntropyy", "sparseCategoricalCrossEntropy"]])(
      "loss %s → %s", (typo, right) => {
        const model = sequential([{ type: "dense", units: 1, inputShape: [2] }]);
        expectRefused(() => model.compile({ optimizer: "sgd", loss: typo as never }), ArgumentError, [`unknown loss ${JSON.stringify(typo)}; did you mean ${JSON.stringify(right)}?`]);
        model.dispose();
      },
    );
    test.each([["Adam", "adam"], ["SGD", "sgd"], ["adamw", "adamW"], ["RMSProp", "rmsprop"]])("optimizer %s → %s", (typo, right) => {
      const model = sequential([{ type: "dense", units: 1, inputShape: [2] }]);
      expectRefused(() => model.compile({ optimizer: typo as never, loss: "mse" }), ArgumentError, [`unknown optimizer ${JSON.stringify(typo)}; did you mean ${JSON.stringify(right)}?`, "or an optimizer object such as adam({ lr: 0.001 })"]);
      model.dispose();
    });
    test("metric, initializer, layer and backend names", async () => {
      const model = sequential([{ type: "dense", units: 1, inputShape: [2] }]);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: "mse", metrics: ["Accuracy" as never] }), ArgumentError, ['unknown metric "Accuracy"; did you mean "accuracy"?']);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: "mse", metrics: ["binary_accuracy" as never] }), ArgumentError, ['did you mean "binaryAccuracy"?']);
      model.dispose();
      expectRefused(() => sequential([{ type: "dense", units: 1, inputShape: [2], kernelInitializer: "he_normal" as never }]), ArgumentError, ['unknown initializer "he_normal"; did you mean "heNormal"?']);
      expectRefused(() => sequential([{ type: "Dense" as never, units: 1 }]), RegistryError, ['unknown layer "Dense"; did you mean "dense"?']);
      expectRefused(() => sequential([{ type: "layer_normalization" as never }]), RegistryError, ['did you mean "layerNormalization"?']);
      await expectRefusedAsync(() => setBackend("CPU"), RegistryError, ['unknown backend "CPU"; did you mean "cpu"?']);
      await expectRefusedAsync(() => setBackend("wsam"), RegistryError, ['unknown backend "wsam"; did you mean "wasm"?']);
      // the active backend did not change
      const t = tensor([1]);
      expect(t.backend.name).toBe(backend);
      t.dispose();
    });
    test("a name far from every registered one lists them without a guess", () => {
      expectRefused(() => resolveActivation("quantumFoam"), RegistryError, ['unknown activation "quantumFoam" (registered activations:']);
    });
  });

  describe("prototype keys are not registry entries", () => {
    test.each(PROTOTYPE_KEYS)("%s", async (key) => {
      const before = registryState();
      expectRefused(() => resolveActivation(key), RegistryError, [`unknown activation ${JSON.stringify(key)}`, "register a plugin that provides it with use(...)"]);
      let message = "";
      try {
        resolveActivation(key);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toMatch(/native code|function Object/);
      const model = sequential([{ type: "dense", units: 1, inputShape: [2] }]);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: key as never }), ArgumentError, [`unknown loss ${JSON.stringify(key)}`]);
      expectRefused(() => model.compile({ optimizer: "sgd", loss: "mse", metrics: [key as never] }), ArgumentError, [`unknown metric ${JSON.stringify(key)}`]);
      expectRefused(() => model.compile({ optimizer: key as never, loss: "mse" }), ArgumentError, [`unknown optimizer ${JSON.stringify(key)}`]);
      model.dispose();
      expectRefused(() => sequential([{ type: key as never, units: 1 }]), RegistryError, [`unknown layer ${JSON.stringify(key)}`]);
      expectRefused(() => sequential([{ type: "dense", units: 1, inputShape: [2], kernelInitializer: key as never }]), ArgumentError, [`unknown initializer ${JSON.stringify(key)}`]);
      await expectRefusedAsync(() => setBackend(key), RegistryError, [`unknown backend ${JSON.stringify(key)}`]);
      expect(registryState()).toBe(before);
    });
    test("parameters named like prototype keys are refused, not silently ignored", () => {
      for (const key of PROTOTYPE_KEYS) {
        const spec = JSON.parse(`{"name": "elu", ${JSON.stringify(key)}: 2}`) as { name: "elu" };
        expectRefused(() => resolveActivation(spec), ArgumentError, [`activation "elu" has no parameter ${JSON.stringify(key)}`, "its parameters: alpha"]);
      }
    });
    test("a parameter on the spec's prototype is not read", () => {
      const spec = Object.assign(Object.create({ alpha: 5 }) as object, { name: "elu" }) as { name: "elu" };
      expect(resolveActivation(spec).params).toEqual({ alpha: 1 });
    });
  });

  describe("errors that say what is wrong and what to do", () => {
    test("predict on a tensor without a batch axis", () => {
      const model = sequential([{ type: "dense", units: 2, inputShape: [3] }]);
      const s = tensor(4);
      expectRefused(() => model.predict(s), ShapeError, ["predict: x must have a batch axis", "got a scalar", "e.g. shape [batch, 3]"]);
      s.dispose();
      model.dispose();
    });
    test("calls on a disposed model name the model and the fix", async () => {
      const model = sequential([{ type: "dense", units: 2, inputShape: [3] }], { name: "tiny" });
      model.compile({ optimizer: sgd(), loss: "mse" });
      const x = zeros([4, 3]);
      const y = zeros([4, 2]);
      model.dispose();
      const messages = ["tiny was disposed", "create or load the model again"];
      expectRefused(() => model.predict(x), NeuriteError, ["predict: ", ...messages]);
      expectRefused(() => model.evaluate(x, y), NeuriteError, ["evaluate: ", ...messages]);
      expectRefused(() => model.trainOnBatch(x, y), NeuriteError, ["trainOnBatch: ", ...messages]);
      expectRefused(() => model.apply(x), NeuriteError, ["apply: ", ...messages]);
      await expectRefusedAsync(() => model.fit(x, y), NeuriteError, ["fit: ", ...messages]);
      model.dispose(); // twice is harmless
      x.dispose();
      y.dispose();
    });
    test("use() with what is not a plugin", () => {
      const before = registryState();
      for (const bad of [undefined, null, 5, "elu", true, () => 1]) {
        expectRefused(() => use(bad as never), RegistryError, ["use: argument 1 is not a Neurite plugin", "pass plugins such as cpuBackend or reluFamily"]);
      }
      expectRefused(() => use(reluFamily, undefined as never), RegistryError, ["use: argument 2 is not a Neurite plugin"]);
      expectRefused(() => use(reluFamily.activations as never), RegistryError, ["use: argument 1 is an array", "use(...plugins)"]);
      expectRefused(() => use({ replace: "yes" } as never), ArgumentError, ['use: replace must be true or false, got "yes"']);
      expectRefused(() => use({ replac: true } as never), ArgumentError, ['use: unknown option "replac"; did you mean "replace"?']);
      expectRefused(() => use({ kind: "activation-family", name: "f", activations: 5 } as never), RegistryError, ["activation family \"f\"", "activations must be an array"]);
      expect(registryState()).toBe(before);
    });
    test("a layer plugin whose build returns nothing, or the wrong thing", () => {
      const before = memory().tensors;
      const makeBroken = (build: () => unknown) => defineLayer({
        name: "broken", package: "my-layers", version: "1.0.0", description: "a bad plugin",
        configure: () => ({}),
        build: (_c, inputShape, ctx) => {
          ctx.addWeight("w", [inputShape[0]!], "ones");
          return build() as never;
        },
      });
      for (const [build, what] of [
        [() => undefined, "returned undefined"],
        [() => ({ outputShape: [2] }), "call"],
        [() => ({ outputShape: "2", call: () => 0 }), "outputShape"],
        [() => ({ outputShape: [-1], call: () => 0 }), "outputShape"],
      ] as const) {
        expectRefused(
          () => sequential([{ type: "dense", units: 2, inputShape: [3] }, { type: makeBroken(build) }]),
          NeuriteError, ['layer broken (from my-layers) build', what, "must return { outputShape, call }"],
        );
      }
      const throwing = defineLayer({
        name: "thrower", package: "my-layers", version: "1.0.0", description: "throws a TypeError",
        configure: () => ({}),
        build: () => { throw new TypeError("x is undefined"); },
      });
      expectRefused(() => sequential([{ type: "dense", units: 2, inputShape: [3] }, { type: throwing }]), NeuriteError, ["layer thrower (from my-layers) failed in build: x is undefined"]);
      const badConfigure = defineLayer({ name: "nocfg", package: "my-layers", version: "1.0.0", description: "", configure: () => null as never, build: () => ({ outputShape: [1], call: (x) => x }) });
      expectRefused(() => sequential([{ type: badConfigure }]), NeuriteError, ["layer nocfg (from my-layers) configure must return the config object"]);
      expectRefused(() => sequential([{ type: 5 as never }]), ArgumentError, ["a layer's type must be a registered layer name or a layer plugin, got 5"]);
      expect(memory().tensors).toBe(before);
    });
    test("progressCallback takes epochs and batches from fit", async () => {
      const model = sequential([{ type: "dense", units: 1, inputShape: [2] }], { seed: 2 });
      model.compile({ optimizer: sgd({ lr: 0.1 }), loss: "mse" });
      const x = zeros([10, 2]);
      const y = zeros([10, 1]);
      const seen: Progress[] = [];
      await model.fit(x, y, { epochs: 2, batchSize: 4, callbacks: [progressCallback((p) => void seen.push(p))] });
      // 10 samples in batches of 4: ceil(10 / 4) = 3 batches per epoch
      expect(seen.map((p) => `${p.epoch}/${p.epochs} ${p.batch}/${p.batches}`)).toEqual([
        "0/2 0/3", "0/2 1/3", "0/2 2/3", "0/2 2/3", "1/2 0/3", "1/2 1/3", "1/2 2/3", "1/2 2/3",
      ]);
      expectRefused(() => progressCallback(5 as never), ArgumentError, ["progressCallback: onProgress must be a function"]);
      expectRefused(() => progressCallback(() => {}, { epochs: 0, batches: 3 }), ArgumentError, ["progressCallback: epochs must be a positive integer, got 0"]);
      model.dispose();
      x.dispose();
      y.dispose();
    });
  });
});
