// Browser test: builds e2e/page with Vite, serves it twice (plain, then cross-origin isolated), and drives
// Debian's chromium with playwright-core. The page trains a small network on the wasm backend; with
// COOP/COEP headers it must run on 2 threads, without them it must fall back to 1 thread and say why.
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
        if (load === "url") {
          check(`${label}: fetched kernels.wasm as application/wasm`, wasmResponses.length > 0 && wasmResponses.every((r) => r.status === 200 && r.type === "application/wasm"), JSON.stringify(wasmResponses));
        }
      }
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
