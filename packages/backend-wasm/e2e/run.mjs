// Browser test: builds e2e/page with Vite, serves it twice (plain, then cross-origin isolated), and drives
// Debian's chromium with playwright-core. The page trains a small network on the wasm backend; with
// COOP/COEP headers it must run on 2 threads, without them it must fall back to 1 thread and say why. On the
// isolated server, ?mode=fma checks the relaxed-SIMD (FMA) matmul kernel and prints its speed against SIMD128.
// Prints `e2e: N passed, M failed` and exits non-zero on any failure.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { build, preview } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "dist");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const isolation = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

await build({
  root: join(here, "page"),
  logLevel: "warn",
  build: {
    outDir,
    emptyOutDir: true,
    target: "es2022",
    // keep the kernels a real file so that the URL route fetches it (Vite inlines small assets as data: URLs)
    assetsInlineLimit: (file) => (file.endsWith(".wasm") ? false : undefined),
  },
});

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
}

const profile = await mkdtemp(join(tmpdir(), "neurite-e2e-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function visit(server, query) {
  const page = await context.newPage();
  const wasmResponses = [];
  page.on("response", (r) => {
    if (r.url().endsWith(".wasm")) wasmResponses.push({ status: r.status(), type: r.headers()["content-type"] });
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${server.resolvedUrls.local[0]}${query}`);
  await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: 120000 });
  const result = await page.evaluate(() => window.__result);
  await page.close();
  return { result, wasmResponses, errors };
}

/** The two matmul kernels (test/fma-cases.mjs, as in node with the flag), then their one-thread speeds, printed. */
function fmaChecks({ result: r, errors }) {
  if (r.error) return check("fma page", false, r.error);
  const label = "fma (isolated page)";
  check(`${label}: no page errors`, errors.length === 0, errors.join("; "));
  check(`${label}: relaxed SIMD detected, fused kernel chosen on 1 and 2 threads, plain with fma: false`, r.relaxedSimd && r.chosen.auto1 === "relaxed-simd-fma" && r.chosen.auto2 === "relaxed-simd-fma" && r.chosen.off === "simd128" && r.forced === "loaded", JSON.stringify(r));
  check(`${label}: a given module runs as what it is, a contradicting fma option is refused`, r.given.plain === "simd128" && r.given.fused === "relaxed-simd-fma" && /^ArgumentError: .*fma: true was asked for/.test(r.given.plainAsFma) && /^ArgumentError: .*fma: false was asked for/.test(r.given.fusedAsPlain), JSON.stringify(r.given));
  check(`${label}: both kernels within k·2⁻²³·Σ|a·b| of float64 (worst ${Object.values(r.errors).map((e) => e.toFixed(3)).join(", ")}), of each other (${r.fmaVsPlain.toFixed(3)}), threads 1 = 2`, Object.values(r.errors).every((e) => e <= 1) && r.fmaVsPlain <= 1 && r.threadsDiffer === undefined, JSON.stringify(r));
  check(`${label}: the multiply-adds fuse (witness exact, ${r.differing} of ${r.values} products differ in their last bits)`, r.witness.auto1 === r.witness.exact && r.witness.auto2 === r.witness.exact && r.witness.off === 2 ** -11 && r.differing > r.values / 4, JSON.stringify(r.witness));
  console.log(`matmul GFLOP/s on 1 thread, medians of 9 rounds (${r.userAgent}):`);
  for (const [n, s] of Object.entries(r.speed)) console.log(`  ${n}: relaxed-simd-fma ${s.fma.toFixed(1)}, simd128 ${s.simd128.toFixed(1)}, ${s.ratio.toFixed(2)}×`);
}

try {
  for (const isolated of [false, true]) {
    const server = await preview({ root: join(here, "page"), logLevel: "warn", build: { outDir }, preview: { host: "127.0.0.1", port: 0, headers: isolated ? isolation : {} } });
    try {
      for (const load of ["inline", "url"]) {
        const label = `${isolated ? "isolated" : "plain"} page, ${load} kernels`;
        const { result, wasmResponses, errors } = await visit(server, `?load=${load}`);
        if (result.error) {
          check(`${label}: trains`, false, result.error);
          continue;
        }
        check(`${label}: no page errors`, errors.length === 0, errors.join("; "));
        check(`${label}: loss decreases (${result.lossBefore.toFixed(3)} → ${result.lossAfter.toFixed(3)}, accuracy ${result.accuracy.toFixed(2)})`, result.lossAfter < result.lossBefore * 0.5, JSON.stringify(result));
        // the page refuses synchronous compiles over 4 KB, as Chrome's main thread may: each of mish and gelu must
        // be refused, run in the JavaScript stand-in, then be replaced by the compiled kernel (its values change)
        const large = result.large;
        check(`${label}: mish and gelu (kernels over 4 KB) run on the main thread: ${large.refused} synchronous compiles refused, the JavaScript stand-in ran (worst error ${large.first.toFixed(2)} of the tolerance), then the compiled kernel after ${large.waitedMs} ms (${large.later.toFixed(2)})`, large.refused >= 2 && large.first <= 1 && large.replaced && large.later <= 1, JSON.stringify(large));
        check(`${label}: crossOriginIsolated is ${isolated}`, result.crossOriginIsolated === isolated, JSON.stringify(result.capabilities));
        if (isolated) {
          check(`${label}: runs on 2 threads`, result.capabilities.threads === 2 && result.capabilities.sharedMemory === true, JSON.stringify(result.capabilities));
        } else {
          check(`${label}: falls back to 1 thread and warns why`, result.capabilities.threads === 1 && result.warnings.some((w) => /running on 1 thread instead of 2/.test(w)), JSON.stringify(result));
        }
        // relaxed SIMD is on by default in Chromium: the inlined fused kernels are picked; a URL loads kernels.wasm as is
        const matmulKernel = load === "inline" ? "relaxed-simd-fma" : "simd128";
        check(`${label}: matmul kernel is ${matmulKernel}`, result.capabilities.matmul === matmulKernel, JSON.stringify(result.capabilities));
        if (load === "url") {
          check(`${label}: fetched kernels.wasm as application/wasm`, wasmResponses.length > 0 && wasmResponses.every((r) => r.status === 200 && r.type === "application/wasm"), JSON.stringify(wasmResponses));
        }
      }
      if (isolated) fmaChecks(await visit(server, "?mode=fma"));
    } finally {
      // the browser keeps connections alive: drop them, or closing waits for their timeout
      server.httpServer.closeAllConnections?.();
      await server.close();
    }
  }
} catch (e) {
  check("e2e run", false, e && e.stack || String(e));
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}

console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
