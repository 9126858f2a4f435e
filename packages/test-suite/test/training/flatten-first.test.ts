/**
 * A model that starts with flatten: it is built from flatten's inputShape (no data needed), and it trains. Both
 * failed before: flatten dropped its inputShape, and the flattened input that dense's kernel gradient reads was
 * freed during the forward pass ("gradient of dense: tensor [2, 8] was already disposed").
 */
import { memory, sequential, sgd, tensor } from "@neurite/core";
import { expect, test } from "vitest";
import { forEachBackend } from "../../src/backends.js";

forEachBackend("a model that starts with flatten", () => {
  test("is built from flatten's inputShape and trains with trainOnBatch and fit", async () => {
    const model = sequential([{ type: "flatten", inputShape: [2, 4] }, { type: "dense", units: 3 }]);
    expect(model.inputShape).toEqual([2, 4]);
    model.compile({ optimizer: sgd({ lr: 0.1 }), loss: "mse" });
    const x = tensor(Array.from({ length: 16 }, (_, i) => Math.sin(i)), [2, 2, 4]);
    const y = tensor([0.5, -0.25, 1, 0, 0.75, -0.5], [2, 3]);
    const before = memory().tensors;
    const first = model.trainOnBatch(x, y).loss!;
    let last = first;
    for (let i = 0; i < 50; i++) last = model.trainOnBatch(x, y).loss!;
    expect(last).toBeLessThan(first / 2);
    expect(memory().tensors).toBe(before); // the kept intermediates are freed with the step
    await model.fit(x, y, { epochs: 2, batchSize: 2 });
    x.dispose();
    y.dispose();
    model.dispose();
  });
});
