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
  const large = await largeKernels();
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

const LARGE = ["mish", "gelu"];
const VALUES = Array.from({ length: 2001 }, (_, i) => Math.fround(-10 + i / 100));

/** mish and gelu over [−10, 10] on the active backend, one array each. */
function runLarge() {
  return LARGE.map((name) => Array.from(scope(() => applyActivation(tensor(VALUES), resolveActivation(name)).dataSync())));
}

/** Worst |error| / tolerance of the outputs of {@link runLarge} against the float64 definitions (≤ 1 passes). */
function largeKernelError(outputs) {
  let worst = 0;
  LARGE.forEach((name, k) => {
    const prog = activationProgram(resolveActivation(name));
    const f = compileScalar(prog.program);
    outputs[k].forEach((a, i) => {
      const e = f([VALUES[i]], prog.scalars);
      worst = Math.max(worst, Math.abs(a - e) / Math.max(1e-6 * Math.abs(e), 5e-7));
    });
  });
  return worst;
}

/**
 * mish and gelu compile to modules over 4 KB, the size above which Chrome refuses to compile synchronously on
 * a page's main thread (a RangeError; recent desktop Chrome may allow it, older Chrome and Android WebViews do
 * not). The backend then runs the kernel in JavaScript until an asynchronous compile is done. The limit is
 * enforced here, whatever this Chromium does, so that the fallback surely runs: the page counts the refused
 * compiles, checks the stand-in's values, then waits for the compiled kernel, whose values (float32 SIMD) differ
 * from the stand-in's (float64 JavaScript), and checks them too.
 */
async function largeKernels() {
  const Real = WebAssembly.Module;
  let refused = 0;
  class Limited extends Real {
    constructor(bytes) {
      if (bytes.byteLength > 4096) {
        refused++;
        throw new RangeError("WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB");
      }
      super(bytes);
    }
  }
  Object.defineProperty(WebAssembly, "Module", { value: Limited, configurable: true, writable: true });
  let standIn, compiled, waitedMs = 0;
  try {
    standIn = runLarge();
  } finally {
    Object.defineProperty(WebAssembly, "Module", { value: Real, configurable: true, writable: true });
  }
  // poll until the background compile has replaced the stand-in (the values change), for up to 60 s
  const same = (a, b) => a.every((row, k) => row.every((v, i) => Object.is(v, b[k][i])));
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    waitedMs += 100;
    compiled = runLarge();
  } while (same(compiled, standIn) && waitedMs < 60000);
  return {
    refused,
    first: largeKernelError(standIn),
    later: largeKernelError(compiled),
    replaced: !same(compiled, standIn),
    waitedMs,
  };
}

(params.get("mode") === "fma" ? import("./fma.js").then((m) => m.fmaPage()) : main()).then(
  (r) => {
    window.__result = r;
    document.getElementById("out").textContent = JSON.stringify(r, null, 2);
  },
  (e) => {
    window.__result = { error: String(e && e.stack || e) };
    document.getElementById("out").textContent = String(e);
  },
);
