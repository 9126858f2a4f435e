/**
 * One library in its own process: `node --expose-gc dist/worker.js '<WorkerRequest JSON>'`, forked by the CLI.
 * Sends one WorkerReply over IPC and exits; progress goes to stderr.
 */
import { MODES } from "./config.js";
import { type Job, SUITES, type Suite, type WorkerReply, type WorkerRequest } from "./protocol.js";
import { BackendUnavailable, type Runner } from "./runners/types.js";
import { runSuites } from "./suites.js";

function parseRequest(raw: string | undefined): WorkerRequest {
  const req = JSON.parse(raw ?? "null") as Partial<WorkerRequest> | null;
  if (!req || (req.library !== "neurite" && req.library !== "tfjs") || typeof req.backend !== "string" || !Array.isArray(req.suites)) {
    throw new Error(`worker: expected a request {library, backend, suites, quick} as argv[2], got ${raw}`);
  }
  for (const s of req.suites as unknown[]) if (!SUITES.includes(s as Suite)) throw new Error(`worker: unknown suite "${String(s)}"; known: ${SUITES.join(", ")}`);
  return { library: req.library, backend: req.backend, suites: req.suites, quick: req.quick === true, wasmThreads: req.wasmThreads ?? 1 };
}

async function send(reply: WorkerReply): Promise<void> {
  if (!process.send) {
    // run by hand: print instead
    process.stdout.write(`${JSON.stringify(reply, (_, v: unknown) => (v instanceof Float32Array ? `Float32Array(${v.length})` : v), 2)}\n`);
    return;
  }
  await new Promise<void>((resolve, reject) => process.send!(reply, undefined, {}, (e) => (e ? reject(e) : resolve())));
}

async function main(): Promise<number> {
  const req = parseRequest(process.argv[2]);
  const job: Job = { library: req.library, backend: req.backend };
  const tag = `${req.library}-${req.backend}`;
  const t0 = performance.now();
  const log = (m: string): void => void process.stderr.write(`  [${tag} ${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);
  try {
    // only this library's code is loaded in this process
    const runner = (
      req.library === "neurite"
        ? await (await import("./runners/neurite.js")).createNeuriteRunner(req.backend, req.wasmThreads)
        : await (await import("./runners/tfjs.js")).createTfjsRunner(req.backend, req.wasmThreads)
    ) as Runner<unknown>;
    log(`ready (${runner.threads} thread${runner.threads === 1 ? "" : "s"})`);
    const out = await runSuites(runner, new Set<Suite>(req.suites), MODES[req.quick ? "quick" : "full"], log);
    await send({ ok: true, job, threads: runner.threads, info: runner.info, rows: out.rows, checks: out.checks, notes: runner.notes });
    return 0;
  } catch (e) {
    const unavailable = e instanceof BackendUnavailable;
    if (!unavailable) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    await send({ ok: false, job, reason: (e as Error).message, unavailable });
    return unavailable ? 0 : 1;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
