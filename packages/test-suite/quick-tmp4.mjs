import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { use, setBackend, sequential, sgd, tensor } from "@neurite/core";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
use(cpuBackend, wasmBackend, sigmoidFamily);
await setBackend(process.argv[2]);
const m = sequential([{ type: "dense", units: 8, activation: "tanh", inputShape: [2] }, { type: "dense", units: 8, activation: "tanh" }, { type: "dense", units: 1, activation: "tanh" }], { seed: 1 });
m.compile({ optimizer: sgd({ lr: 0.03 }), loss: "mse" });
const xs = [], ys = [];
for (let b = 0; b < 25; b++) { xs.push(tensor(Array.from({length: 20}, (_, i) => Math.sin(i + b)), [10, 2])); ys.push(tensor(Array.from({length: 10}, (_, i) => Math.cos(i + b)), [10, 1])); }
for (let i = 0; i < 3; i++) m.trainOnBatch(xs[0], ys[0]);
const t0 = performance.now();
for (let e = 0; e < 800; e++) for (let b = 0; b < 25; b++) m.trainOnBatch(xs[b], ys[b]);
console.log(process.argv[2], "µs/step", ((performance.now() - t0) / 20000 * 1000).toFixed(1));
