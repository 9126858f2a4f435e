// Times matmul and elementwise add on 1 and 2 threads over a range of sizes, alternating, to place the
// cut-overs below which work stays on one thread (src/matmul.ts PARALLEL_MATMUL_MIN, src/elementwise.ts
// PARALLEL_ELEMENTWISE_MIN, PARALLEL_ADAM_MIN for the adam kernel). Run after building: node packages/backend-wasm/scripts/cutover.mjs
import { input } from "@neurite/core";
import { createWasmBackend } from "@neurite/backend-wasm";

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({ threads: 2 });
const median = (v) => v.sort((a, b) => a - b)[v.length >> 1];
function time(fn, reps) {
  for (let i = 0; i < 3; i++) fn();
  const t = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    fn();
    t.push((performance.now() - s) * 1000);
  }
  return median(t);
}
function compare(label, make, reps) {
  const a = make(one), b = make(two);
  const r1 = [], r2 = [];
  for (let round = 0; round < 5; round++) { r1.push(time(a, reps)); r2.push(time(b, reps)); }
  const m1 = median(r1), m2 = median(r2);
  console.log(`${label.padEnd(28)} 1 thread ${m1.toFixed(1).padStart(9)} µs   2 threads ${m2.toFixed(1).padStart(9)} µs   ${(m1 / m2).toFixed(2)}×   (2-thread calls on 2 threads: ${b.joined()})`);
}
const matmul = (m, k, n) => (backend) => {
  const a = backend.upload(new Float32Array(m * k).fill(0.5)), b = backend.upload(new Float32Array(k * n).fill(0.25)), out = backend.alloc(m * n);
  let calls = 0, joined = 0;
  const fn = () => {
    backend.matmul({ a, b, out, batch: 1, m, n, k, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    calls++;
    if (backend.lastKernelThreads() > 1) joined++;
  };
  fn.joined = () => `${joined}/${calls}`;
  return fn;
};
const add = (size) => (backend) => {
  const a = backend.upload(new Float32Array(size).fill(1)), b = backend.upload(new Float32Array(size).fill(2)), out = backend.alloc(size);
  const view = (id) => ({ id, offset: 0, strides: [1] });
  let calls = 0, joined = 0;
  const fn = () => {
    backend.elementwise({ program: input(0).add(input(1)), inputs: [view(a), view(b)], scalars: [], shape: [size], out: view(out) });
    calls++;
    if (backend.lastKernelThreads() > 1) joined++;
  };
  fn.joined = () => `${joined}/${calls}`;
  return fn;
};
for (const [m, k, n] of [[32, 32, 32], [64, 64, 64], [64, 64, 128], [128, 128, 64], [128, 128, 128], [128, 128, 256], [128, 256, 128], [256, 128, 128], [256, 256, 256], [128, 784, 256], [1024, 128, 10]]) {
  compare(`matmul ${m}×${k}×${n}`, matmul(m, k, n), 30);
}
for (const e of [12, 14, 15, 16, 17, 18, 19, 20, 21]) compare(`add 2^${e}`, add(1 << e), 30);
const adamStep = (size) => (backend) => {
  const [param, grad, m, v] = [0.5, 0.1, 0, 0].map((fill) => backend.upload(new Float32Array(size).fill(fill)));
  let calls = 0, joined = 0;
  const fn = () => {
    backend.kernels.adam({ param, grad, m, v, size, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection1: 0.1, biasCorrection2: 0.001, weightDecay: 0, decoupledWeightDecay: 0 });
    calls++;
    if (backend.lastKernelThreads() > 1) joined++;
  };
  fn.joined = () => `${joined}/${calls}`;
  return fn;
};
for (const e of [14, 15, 16, 17, 18]) compare(`adam 2^${e}`, adamStep(1 << e), 30);
one.dispose();
two.dispose();
