// Profiles training steps and a prediction of the bench MLP (784-256-128-10, relu, softmax, Adam, batch 128;
// predict at batch 1024) on the wasm backend, with core's profile(). Run after building core and this package:
//   node packages/backend-wasm/scripts/profile-mlp.mjs [threads] [steps]
import { softmaxFamily } from "@neurite/activations-softmax";
import { reluFamily } from "@neurite/activations-relu";
import { adam, profile, scope, sequential, setBackend, tensor, uniform, use } from "@neurite/core";
import { wasmBackend } from "@neurite/backend-wasm";

const threads = Number(process.argv[2] ?? 1);
const steps = Number(process.argv[3] ?? 20);
use(wasmBackend, reluFamily, softmaxFamily);
const backend = await setBackend("wasm", { threads });
const model = sequential([
  { type: "dense", units: 256, activation: "relu", inputShape: [784] },
  { type: "dense", units: 128, activation: "relu" },
  { type: "dense", units: 10, activation: "softmax" },
]);
model.compile({ optimizer: adam({ lr: 1e-3 }), loss: "categoricalCrossEntropy" });
const x = uniform([128, 784], { seed: 1 });
const labels = new Float32Array(128 * 10);
for (let i = 0; i < 128; i++) labels[i * 10 + (i % 10)] = 1;
const y = tensor(labels, [128, 10]);
const xp = uniform([1024, 784], { seed: 2 });
for (let i = 0; i < 10; i++) model.trainOnBatch(x, y);
scope(() => model.predict(xp).dataSync());
const train = profile(() => { for (let i = 0; i < steps; i++) model.trainOnBatch(x, y); });
console.log(`## ${steps} training steps, batch 128, ${backend.capabilities().threads} thread(s)\n${train.format({ maxOps: 40 })}\n`);
const predict = profile(() => { for (let i = 0; i < steps; i++) scope(() => model.predict(xp).dataSync()); });
console.log(`## ${steps} predictions, batch 1024, ${backend.capabilities().threads} thread(s)\n${predict.format({ maxOps: 20 })}`);
backend.dispose?.();
