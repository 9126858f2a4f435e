// Trains a tiny network in the page on the wasm backend and publishes what happened on window.__result.
import { adam, memory, sequential, setBackend, tensor, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { wasmBackend } from "../../dist/index.js";
import kernelsUrl from "../../dist/kernels.wasm?url";

const params = new URLSearchParams(location.search);
const warnings = [];
const warn = console.warn;
console.warn = (...args) => {
  warnings.push(args.join(" "));
  warn(...args);
};

async function main() {
  use(wasmBackend, reluFamily, softmaxFamily);
  const backend = await setBackend("wasm", { threads: 2, ...(params.get("load") === "url" ? { wasm: kernelsUrl } : {}) });
  // two interleaved spirals-ish classes: not linearly separable
  const n = 256;
  const xs = new Float32Array(n * 2);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2, r = (i / n) * 3 + 0.2, t = r * 2.2 + c * Math.PI;
    xs[2 * i] = r * Math.cos(t);
    xs[2 * i + 1] = r * Math.sin(t);
    ys[i] = c;
  }
  const x = tensor(xs, [n, 2]);
  const y = tensor(ys);
  const model = sequential([
    { type: "dense", units: 64, activation: "relu", inputShape: [2] },
    { type: "dense", units: 64, activation: "relu" },
    { type: "dense", units: 2, activation: "softmax" },
  ], { seed: 3 });
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
  const before = model.evaluate(x, y);
  const history = await model.fit(x, y, { epochs: 60, batchSize: 64 });
  const after = model.evaluate(x, y);
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    capabilities: backend.capabilities(),
    lossBefore: before.loss,
    lossAfter: after.loss,
    accuracy: after.accuracy,
    epochs: history.epochs?.length ?? 60,
    tensors: memory().tensors,
    warnings,
  };
}

main().then(
  (r) => {
    window.__result = r;
    document.getElementById("out").textContent = JSON.stringify(r, null, 2);
  },
  (e) => {
    window.__result = { error: String(e && e.stack || e) };
    document.getElementById("out").textContent = String(e);
  },
);
