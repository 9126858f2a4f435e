// ?mode=fma: the two matmul kernels in Chromium, which runs relaxed SIMD by default. The checks of
// test/fma-cases.mjs (the same as in node with the flag), then one-thread GFLOP/s of each kernel at 256, 512
// and 1024: rounds alternate the kernels and the medians are printed (never asserted: the machine is shared).
import * as wasm from "../../dist/index.js";
import kernelsUrl from "../../dist/kernels.wasm?url";
import kernelsFmaUrl from "../../dist/kernels-fma.wasm?url";
import { fmaReport } from "../../test/fma-cases.mjs";

function randomMatrix(n) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.fround(Math.sin(i * 12.9898) * 0.5);
  return x;
}

/** GFLOP/s of an n×n×n product on each backend, median over `rounds` rounds that alternate the backends. */
function speeds(backends, n, rounds) {
  const bufs = backends.map((b) => ({ a: b.upload(randomMatrix(n * n)), b: b.upload(randomMatrix(n * n)), out: b.alloc(n * n) }));
  const run = (i) => backends[i].matmul({ a: bufs[i].a, b: bufs[i].b, out: bufs[i].out, batch: 1, m: n, n, k: n, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
  // enough repetitions for ≥ 40 ms per measurement
  backends.forEach((_, i) => run(i));
  const t0 = performance.now();
  run(0);
  const reps = Math.max(1, Math.ceil(40 / Math.max(performance.now() - t0, 0.05)));
  const samples = backends.map(() => []);
  for (let r = 0; r < rounds; r++) {
    backends.forEach((_, i) => {
      const start = performance.now();
      for (let k = 0; k < reps; k++) run(i);
      samples[i].push((2 * n * n * n * reps) / ((performance.now() - start) * 1e6));
    });
  }
  bufs.forEach((buf, i) => { for (const id of [buf.a, buf.b, buf.out]) backends[i].free(id); });
  return samples.map((s) => s.sort((x, y) => x - y)[s.length >> 1]);
}

export async function fmaPage() {
  const report = await fmaReport(wasm, { plain: kernelsUrl, fused: kernelsFmaUrl });
  const fused = await wasm.createWasmBackend({ threads: 1, fma: true });
  const plain = await wasm.createWasmBackend({ threads: 1, fma: false });
  report.speed = {};
  for (const n of [256, 512, 1024]) {
    const [f, p] = speeds([fused, plain], n, 9);
    report.speed[n] = { fma: f, simd128: p, ratio: f / p };
  }
  fused.dispose();
  plain.dispose();
  report.userAgent = navigator.userAgent;
  return report;
}
