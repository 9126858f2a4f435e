/**
 * The bench in a Chromium page (`pnpm bench --browser`, driven by src/browser.ts): one library on its wasm
 * backend per page load, `?library=neurite|tfjs&threads=N&suites=a,b&quick=1`. Runs the same suites as the
 * Node worker and publishes the same reply as `window.__reply` (typed arrays as plain arrays, for the driver).
 */
import { MODES } from "../config.js";
import type { Suite, WorkerReply } from "../protocol.js";
import type { Runner } from "../runners/types.js";
import { runSuites } from "../suites.js";

type Tensor = import("@tensorflow/tfjs-core").Tensor;

/** TF.js on its wasm backend with the threaded SIMD binary, served by the driver under /tfjs/. */
async function tfjsRunner(threads: number): Promise<Runner<Tensor>> {
  // TF.js's threaded binary pre-starts min(4, hardwareConcurrency / 2) pthread workers and cannot start more
  // from the main thread: on a 2-core machine that leaves it 1 thread whatever setThreadsCount says. Report
  // enough cores for the threads asked for (the page itself runs nothing else)
  const cores = navigator.hardwareConcurrency;
  if (2 * threads > cores) Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => 2 * threads, configurable: true });
  const tf = await import("@tensorflow/tfjs-core");
  const tfl = await import("@tensorflow/tfjs-layers");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const { tfjsAdapter } = await import("../runners/tfjs.js");
  // the binaries come from this server (the driver serves node_modules' copies): nothing from the internet
  wasm.setWasmPaths(new URL("/tfjs/", location.href).href);
  wasm.setThreadsCount(threads);
  tf.enableProdMode();
  if (!(await tf.setBackend("wasm"))) throw new Error('tfjs: setBackend("wasm") failed');
  await tf.ready();
  const info: Record<string, string | number | boolean> = {
    version: tf.version_core,
    simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    multithread: await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
    threads: wasm.getThreadsCount(),
  };
  const notes = ["tfjs-wasm in Chromium: tfjs-backend-wasm-threaded-simd.wasm where the page is cross-origin isolated"];
  return tfjsAdapter(tf, tfl, "wasm", wasm.getThreadsCount(), info, notes);
}

async function main(): Promise<WorkerReply> {
  const params = new URLSearchParams(location.search);
  const library = params.get("library");
  const threads = Number(params.get("threads") ?? 1);
  const suites = (params.get("suites") ?? "").split(",").filter(Boolean) as Suite[];
  const quick = params.get("quick") === "1";
  const job = { library: library === "tfjs" ? "tfjs" : "neurite", backend: "wasm" } as const;
  const log = (m: string): void => console.log(`[${library} ${threads}t] ${m}`);
  try {
    const runner = (library === "tfjs" ? await tfjsRunner(threads) : await (await import("../runners/neurite.js")).createNeuriteRunner("wasm", threads)) as Runner<unknown>;
    const out = await runSuites(runner, new Set(suites), MODES[quick ? "quick" : "full"], log);
    return { ok: true, job, threads: runner.threads, info: runner.info, rows: out.rows, checks: out.checks, notes: runner.notes };
  } catch (e) {
    return { ok: false, job, reason: String((e as Error).stack ?? e), unavailable: false };
  }
}

void main().then((reply) => {
  const plain = reply.ok ? { ...reply, checks: Object.fromEntries(Object.entries(reply.checks).map(([k, v]) => [k, Array.from(v)])) } : reply;
  (window as unknown as { __reply: unknown }).__reply = plain;
  document.getElementById("out")!.textContent = reply.ok ? `${reply.rows.length} rows` : reply.reason;
});
