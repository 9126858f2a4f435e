// Trains a tiny network in the page on the wasm backend and publishes what happened on window.__result.
import { activationProgram, adam, applyActivation, compileScalar, memory, resolveActivation, scope, sequential, setBackend, tensor, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { smoothFamily } from "@neurite/activations-smooth";
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
  use(wasmBackend, reluFamily, softmaxFamily, smoothFamily);
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
  // mish and gelu compile to modules over 4 KB, the size above which older Chrome and Android WebViews refuse
  // to compile synchronously on a page's main thread (the backend then runs them in JavaScript until an
  // asynchronous compile is done): check them here, at once and after a pause
  const large = { first: largeKernelError(), later: 0 };
  await new Promise((resolve) => setTimeout(resolve, 500));
  large.later = largeKernelError();
  return {
    large,
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

/** Worst |error| / tolerance of mish and gelu over [−10, 10] against their float64 definitions (≤ 1 passes). */
function largeKernelError() {
  const values = Array.from({ length: 2001 }, (_, i) => Math.fround(-10 + i / 100));
  let worst = 0;
  for (const name of ["mish", "gelu"]) {
    const prog = activationProgram(resolveActivation(name));
    const f = compileScalar(prog.program);
    const expected = values.map((v) => f([v], prog.scalars));
    const got = scope(() => applyActivation(tensor(values), resolveActivation(name)).dataSync());
    got.forEach((a, i) => (worst = Math.max(worst, Math.abs(a - expected[i]) / Math.max(1e-6 * Math.abs(expected[i]), 5e-7))));
  }
  return worst;
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
