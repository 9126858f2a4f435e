/**
 * `pnpm bench --browser`: the suites in Debian's Chromium, driven through playwright-core. The page
 * (src/browser/) is bundled with Vite and served by a small static server with COOP/COEP headers, so that it
 * is cross-origin isolated and both libraries can start threads; TF.js's .wasm binaries are served from
 * node_modules under /tfjs/. Nothing is fetched from the internet. Each job (library × threads) gets a fresh
 * page; rounds alternate the order. The report has the Node bench's schema with `meta.runtime: "chromium"`.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { BackendStatus, Report, ResultRow, Suite, WorkerReply } from "./protocol.js";
import { applyChecks, markdownTable, mergeRounds, notes, runChecks } from "./report.js";

export interface BrowserOptions {
  readonly quick: boolean;
  readonly suites: readonly Suite[];
  readonly libraries: readonly ("neurite" | "tfjs")[];
  readonly threads: readonly number[];
  readonly rounds: number;
  /** Chromium's executable (default $CHROMIUM or /usr/bin/chromium). */
  readonly executablePath?: string;
  readonly timeoutMs: number;
  readonly log: (message: string) => void;
}

export interface BrowserReport {
  /** The Node bench's meta, plus the runtime and the browser's version. */
  readonly meta: Report["meta"] & { readonly runtime: "chromium"; readonly browser: string };
  readonly results: readonly ResultRow[];
  /** One markdown table per thread count. */
  readonly tables: Readonly<Record<string, string>>;
}

const here = dirname(fileURLToPath(import.meta.url));
const MIME: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css", ".map": "application/json" };

/** Bundles the page into a temporary folder with Vite (the page's source is shipped next to dist/). */
async function buildPage(outDir: string): Promise<void> {
  const { build } = await import("vite");
  // src/browser/ beside dist/ (run from dist/cli.js) or this file's own folder (run from src/ by tests)
  const root = here.endsWith("dist") ? join(here, "..", "src", "browser") : join(here, "browser");
  await build({
    root,
    logLevel: "warn",
    // not minified: tfjs-backend-wasm starts its pthread workers from its own factory function's source text, which
    // breaks when the minifier renames what that text refers to ("e is not defined" in every worker)
    build: { outDir, emptyOutDir: true, target: "es2022", minify: false, rollupOptions: { external: ["onnxruntime-node"] } },
  });
}

/** Serves `dir`, and TF.js's binaries under /tfjs/, cross-origin isolated; resolves with the base URL. */
async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const tfjsDir = dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = path.startsWith("/tfjs/") ? join(tfjsDir, "dist", path.slice(6)) : join(dir, path === "/" ? "index.html" : path);
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          "Content-Type": MIME[extname(file)] ?? "application/octet-stream",
          "Cross-Origin-Opener-Policy": "same-origin",
          "Cross-Origin-Embedder-Policy": "require-corp",
        });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type PlainReply = Exclude<WorkerReply, { ok: true }> | (Omit<Extract<WorkerReply, { ok: true }>, "checks"> & { checks: Record<string, number[]> });

export async function runBrowserBench(o: BrowserOptions): Promise<BrowserReport> {
  const t0 = performance.now();
  const { chromium } = await import("playwright-core");
  const work = await mkdtemp(join(tmpdir(), "neurite-bench-browser-"));
  const outDir = join(work, "page");
  await buildPage(outDir);
  const server = await serve(outDir);
  const context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: o.executablePath ?? process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    // --expose-gc: the harness collects garbage between cases, as in the Node workers
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--js-flags=--expose-gc"],
  });
  const browser = context.browser()?.version() ?? `Chromium (${o.executablePath ?? "/usr/bin/chromium"})`;
  const jobs = o.threads.flatMap((threads) => o.libraries.map((library) => ({ library, threads })));
  const rounds = new Map<number, ResultRow[][]>(o.threads.map((t) => [t, []]));
  const statuses = new Map<string, BackendStatus>();
  const checks = new Map<number, Map<string, Record<string, Float32Array>>>(o.threads.map((t) => [t, new Map()]));
  try {
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? jobs : [...jobs].reverse();
      const rows = new Map<number, ResultRow[]>(o.threads.map((t) => [t, []]));
      for (const { library, threads } of order) {
        const key = `${library}-wasm-${threads}`;
        if (statuses.get(key)?.status === "failed") continue;
        o.log(`▶ ${key} threads (round ${round + 1}/${o.rounds}, ${((performance.now() - t0) / 1000).toFixed(0)} s elapsed)`);
        const page = await context.newPage();
        // an error in the page or one of its workers ends the job at once instead of at the timeout
        let failed: (e: Error) => void = () => {};
        const failure = new Promise<never>((_, reject) => (failed = reject));
        failure.catch(() => {});
        page.on("pageerror", (e) => failed(e));
        page.on("console", (m) => {
          o.log(`  ${m.text()}`);
          if (/worker sent an error|Uncaught/.test(m.text())) failed(new Error(m.text()));
        });
        let reply: PlainReply;
        try {
          await page.goto(`${server.url}?library=${library}&threads=${threads}&suites=${o.suites.join(",")}&quick=${o.quick ? 1 : 0}`);
          await Promise.race([failure, page.waitForFunction(() => (window as unknown as { __reply?: unknown }).__reply !== undefined, undefined, { timeout: o.timeoutMs, polling: 500 })]);
          reply = await page.evaluate(() => (window as unknown as { __reply: PlainReply }).__reply);
        } catch (e) {
          reply = { ok: false, job: { library, backend: "wasm" }, reason: String((e as Error).message), unavailable: false };
        } finally {
          await page.close();
        }
        if (reply.ok) {
          // a page cannot see its process's resident memory: no "peak rss" row rather than a 0
          rows.get(threads)!.push(...reply.rows.filter((r) => r.case !== "peak rss"));
          const name = `${library}-wasm`;
          if (!checks.get(threads)!.has(name)) checks.get(threads)!.set(name, Object.fromEntries(Object.entries(reply.checks).map(([k, v]) => [k, Float32Array.from(v)])));
          statuses.set(key, { library, backend: "wasm", status: "ok", threads: reply.threads, info: reply.info, notes: reply.notes });
        } else {
          o.log(`  ${key}: FAILED: ${reply.reason}`);
          statuses.set(key, { library, backend: "wasm", status: "failed", reason: reply.reason });
        }
      }
      for (const [t, r] of rows) rounds.get(t)!.push(r);
    }
  } finally {
    await context.close();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
  // Neurite wasm on the same thread count is the reference of the checks: no Neurite CPU runs in the page
  const results: ResultRow[] = [];
  const tables: Record<string, string> = {};
  for (const t of o.threads) {
    const merged = mergeRounds(rounds.get(t)!);
    results.push(...merged);
    const statusList = o.libraries.flatMap((l) => statuses.get(`${l}-wasm-${t}`) ?? []);
    const table = runChecks(checks.get(t)!, "neurite-wasm");
    const checkCell = applyChecks(merged, table, "neurite-wasm");
    tables[String(t)] = [markdownTable(merged, statusList, checkCell), "", ...notes(statusList, table).map((n) => `- ${n}`)].join("\n");
  }
  return {
    meta: {
      runtime: "chromium",
      browser,
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      date: new Date().toISOString(),
      loadavg: loadavg(),
      mode: o.quick ? "quick" : "full",
      seconds: Math.round((performance.now() - t0) / 1000),
      backends: [...statuses.values()],
    },
    results,
    tables,
  };
}

/** Whether every job ran. */
export function browserJobsFailed(report: BrowserReport): boolean {
  return report.meta.backends.some((s) => s.status === "failed");
}
