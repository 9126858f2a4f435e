// What test/fma.test.ts (through fma-check.mjs, in node with and without --experimental-wasm-relaxed-simd)
// and the browser test (e2e/page) check about the two matmul kernels: shared so both run the same cases.

/** float32-exact values in [-1, 1) from a seeded generator (mulberry32). */
function random(n, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
  }
  return out;
}

function matmul(backend, a, b, m, n, k, transposeA, transposeB) {
  const ia = backend.upload(a), ib = backend.upload(b), out = backend.alloc(m * n);
  backend.matmul({ a: ia, b: ib, out, batch: 1, m, n, k, transposeA, transposeB, aBatchStride: 0, bBatchStride: 0 });
  const c = backend.read(out);
  for (const id of [ia, ib, out]) backend.free(id);
  return c;
}

/** op(A)·op(B) in float64 and Σ|a·b| per element (the scale of the rounding error bound). */
function reference(a, b, m, n, k, transposeA, transposeB) {
  const exact = new Float64Array(m * n), scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const x = a[transposeA ? p * m + i : i * k + p] * b[transposeB ? j * k + p : p * n + j];
        s += x;
        t += Math.abs(x);
      }
      exact[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { exact, scale };
}

// edges of the 4×8 tile, k across KC = 256 slices, every transpose
const SHAPES = [[37, 45, 300, false, false], [64, 64, 64, true, false], [33, 17, 513, false, true], [20, 24, 130, true, true], [128, 128, 128, false, false]];

/**
 * Which kernel `createWasmBackend` picks (fma "auto" on 1 and 2 threads, fma: false, fma: true, a module
 * given as wasm), how far each kernel's products are from float64, and a product that only a fused
 * multiply-add gets exactly. `urls` locate kernels.wasm and kernels-fma.wasm.
 */
export async function fmaReport({ createWasmBackend, hasRelaxedSimd }, urls) {
  const report = { relaxedSimd: hasRelaxedSimd(), chosen: {}, errors: {}, fmaVsPlain: 0, differing: 0, values: 0 };
  const variants = {
    auto1: await createWasmBackend({ threads: 1 }),
    auto2: await createWasmBackend({ threads: 2 }),
    off: await createWasmBackend({ fma: false }),
  };
  for (const [name, backend] of Object.entries(variants)) report.chosen[name] = backend.capabilities().matmul;
  try {
    (await createWasmBackend({ fma: true })).dispose();
    report.forced = "loaded";
  } catch (e) {
    report.forced = `${e.name}: ${e.message}`;
  }

  // a module given as wasm is loaded as is, and reported as what it is; an explicit fma must match it
  const { plain: plainUrl, fused: fmaUrl } = urls;
  report.given = {};
  for (const [name, options] of Object.entries({ plain: { wasm: plainUrl }, fused: { wasm: fmaUrl }, plainAsFma: { wasm: plainUrl, fma: true }, fusedAsPlain: { wasm: fmaUrl, fma: false } })) {
    try {
      const backend = await createWasmBackend(options);
      report.given[name] = backend.capabilities().matmul;
      backend.dispose();
    } catch (e) {
      report.given[name] = `${e.name}: ${e.message}`;
    }
  }

  // worst |c − exact| / (k·2⁻²³·Σ|a·b|): a float32 dot product of k terms, fused or not, stays ≤ 1
  for (const [s, [m, n, k, ta, tb]] of SHAPES.entries()) {
    const a = random(m * k, 2 * s + 1), b = random(k * n, 2 * s + 2);
    const { exact, scale } = reference(a, b, m, n, k, ta, tb);
    const results = {};
    for (const [name, backend] of Object.entries(variants)) {
      results[name] = matmul(backend, a, b, m, n, k, ta, tb);
      let worst = 0;
      results[name].forEach((c, i) => { worst = Math.max(worst, Math.abs(c - exact[i]) / (k * 2 ** -23 * scale[i] + 1e-30)); });
      report.errors[name] = Math.max(report.errors[name] ?? 0, worst);
    }
    results.auto1.forEach((c, i) => {
      report.fmaVsPlain = Math.max(report.fmaVsPlain, Math.abs(c - results.off[i]) / (2 * k * 2 ** -23 * scale[i] + 1e-30));
      if (c !== results.off[i]) report.differing++;
      if (c !== results.auto2[i]) report.threadsDiffer = true;
    });
    report.values += m * n;
  }

  // one dot product that tells a fused multiply-add from a rounded product: (−1)·1 + (1 + 2⁻¹²)², whose exact
  // value 2⁻¹¹ + 2⁻²⁴ is a float32; rounding the square first (to 1 + 2⁻¹¹, a tie to even) loses the 2⁻²⁴
  const e = 1 + 2 ** -12;
  report.witness = { exact: 2 ** -11 + 2 ** -24 };
  for (const [name, backend] of Object.entries(variants)) report.witness[name] = matmul(backend, new Float32Array([-1, e]), new Float32Array([1, e]), 1, 1, 2, false, false)[0];

  for (const backend of Object.values(variants)) backend.dispose();
  return report;
  }
