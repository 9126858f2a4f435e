/**
 * `pnpm bench [--quick] [--json FILE] [--only SUITES] [--backends JOBS] [--rounds N]`: runs each library and
 * backend in its own child process, one after another (N times, alternating the order), checks that they
 * compute the same values as Neurite CPU, and prints a markdown table with Neurite / TF.js ratios.
 */
import { fork } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { JOBS, MODES } from "./config.js";
import { type BackendStatus, type Job, type Report, type ResultRow, SUITES, type Suite, type WorkerReply, type WorkerRequest } from "./protocol.js";
import { BROWSER_SUITES } from "./browser-suites.js";
import { activationSummary, applyChecks, markdownTable, mergeRounds, notes, runChecks, writeJson } from "./report.js";

const USAGE = `usage: pnpm bench [--quick] [--json FILE] [--only SUITES] [--backends JOBS] [--wasm-threads N] [--rounds N]
  --quick          fewer repetitions, trainOnBatch steps instead of epochs, a 100-step memory check (under 3 minutes on 2 cores)
  --json FILE      also write the results as JSON
  --only SUITES    comma-separated suites: ${SUITES.join(", ")}
  --backends JOBS  comma-separated: cpu, wasm, neurite, tfjs, or library-backend (${JOBS.map((j) => `${j.library}-${j.backend}`).join(", ")})
  --wasm-threads N threads asked of the WASM backends (default 1; TF.js's has one thread in Node whatever is asked)
  --rounds N       run every job N times, in alternating order, and report each row's median round (default 1)
  --browser        run in Debian's Chromium instead (playwright-core, a cross-origin isolated page): Neurite wasm
                   vs TF.js wasm (threaded SIMD binary) on 1 and 2 threads, or the --wasm-threads given; suites
                   ${BROWSER_SUITES.join(", ")}; --backends picks neurite or tfjs`;

export interface CliOptions {
  readonly quick: boolean;
  readonly json: string | undefined;
  readonly suites: readonly Suite[];
  readonly jobs: readonly Job[];
  readonly wasmThreads: number;
  readonly rounds: number;
  readonly browser: boolean;
  /** Whether --wasm-threads was given (the browser bench runs 1 and 2 threads otherwise). */
  readonly wasmThreadsGiven: boolean;
}

class UsageError extends Error {}

/** Parses the command line (without node and the script). */
export function parseCli(argv: readonly string[]): CliOptions | "help" {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "string" },
      only: { type: "string" },
      backends: { type: "string" },
      "wasm-threads": { type: "string" },
      rounds: { type: "string" },
      browser: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  const list = (s: string | undefined): string[] | undefined => s?.split(",").map((x) => x.trim()).filter(Boolean);
  const only = list(values.only);
  for (const s of only ?? []) {
    if (!SUITES.includes(s as Suite)) throw new UsageError(`--only: unknown suite "${s}"; use any of ${SUITES.join(", ")}`);
  }
  const wanted = list(values.backends);
  const matches = (w: string, j: Job): boolean => w === j.backend || w === j.library || w === `${j.library}-${j.backend}`;
  const jobs = wanted ? JOBS.filter((j) => wanted.some((w) => matches(w, j))) : [...JOBS];
  for (const w of wanted ?? []) {
    if (!JOBS.some((j) => matches(w, j))) {
      throw new UsageError(`--backends: unknown "${w}"; use cpu, wasm, neurite, tfjs or one of ${JOBS.map((j) => `${j.library}-${j.backend}`).join(", ")}`);
    }
  }
  if (values.json === "") throw new UsageError("--json needs a file name, e.g. --json out.json");
  const wasmThreads = Number(values["wasm-threads"] ?? 1);
  if (!Number.isInteger(wasmThreads) || wasmThreads < 1) throw new UsageError(`--wasm-threads must be a positive integer, got ${values["wasm-threads"]}`);
  const rounds = Number(values.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer, got ${values.rounds}`);
  if (values.browser) {
    for (const s of only ?? []) {
      if (!BROWSER_SUITES.includes(s as Suite)) throw new UsageError(`--only: suite "${s}" does not run in --browser; use any of ${BROWSER_SUITES.join(", ")}`);
    }
    if (wanted?.some((w) => w === "cpu" || w.endsWith("-cpu"))) {
      throw new UsageError(`--backends: --browser runs the wasm backends only; use neurite, tfjs, neurite-wasm or tfjs-wasm`);
    }
  }
  const suites = only ? (only as Suite[]) : values.browser ? [...BROWSER_SUITES] : [...SUITES];
  return { quick: values.quick, json: values.json, suites, jobs, wasmThreads, rounds, browser: values.browser, wasmThreadsGiven: values["wasm-threads"] !== undefined };
}

/** Runs one job in a child process and resolves with its reply (a failure reply if it crashes or times out). */
function runWorker(req: WorkerRequest, timeoutMs: number): Promise<WorkerReply> {
  const job: Job = { library: req.library, backend: req.backend };
  return new Promise((resolve) => {
    let reply: WorkerReply | undefined;
    const child = fork(new URL("./worker.js", import.meta.url), [JSON.stringify(req)], {
      // --expose-gc: the harness collects garbage between cases
      execArgv: ["--expose-gc"],
      serialization: "advanced", // typed arrays cross IPC as they are
      // the child's stdout (libraries print banners there) goes to our stderr: stdout is the table
      stdio: ["ignore", 2, 2, "ipc"],
    });
    const timer = setTimeout(() => {
      reply = { ok: false, job, reason: `timed out after ${timeoutMs / 1000} s`, unavailable: false };
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("message", (m) => void (reply ??= m as WorkerReply));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(reply ?? { ok: false, job, reason: `worker exited (${signal ?? `code ${code}`}) without a result`, unavailable: false });
    });
  });
}

async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions | "help";
  try {
    options = parseCli(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const mode = MODES[options.quick ? "quick" : "full"];
  if (options.browser) return browserMain(options, mode.workerTimeoutMs);
  const t0 = performance.now();
  const rounds: ResultRow[][] = [];
  const statuses = new Map<string, BackendStatus>();
  const checks = new Map<string, Readonly<Record<string, Float32Array>>>();
  for (let round = 0; round < options.rounds; round++) {
    // a slow spell of a shared machine should not always fall on the same library: alternate the order
    const jobs = round % 2 === 0 ? options.jobs : [...options.jobs].reverse();
    const rows: ResultRow[] = [];
    for (const job of jobs) {
      const name = `${job.library}-${job.backend}`;
      if (statuses.get(name)?.status === "unavailable" || statuses.get(name)?.status === "failed") continue;
      const of = options.rounds > 1 ? `, round ${round + 1}/${options.rounds}` : "";
      process.stderr.write(`▶ ${name} (${mode.name}${of}, ${((performance.now() - t0) / 1000).toFixed(0)} s elapsed)\n`);
      const reply = await runWorker({ ...job, suites: options.suites, quick: options.quick, wasmThreads: options.wasmThreads }, mode.workerTimeoutMs);
      if (reply.ok) {
        rows.push(...reply.rows);
        if (!checks.has(name)) checks.set(name, reply.checks);
        statuses.set(name, { ...job, status: "ok", threads: reply.threads, info: reply.info, notes: reply.notes });
      } else {
        process.stderr.write(`  ${name}: ${reply.unavailable ? "n/a" : "FAILED"}: ${reply.reason}\n`);
        statuses.set(name, { ...job, status: reply.unavailable ? "unavailable" : "failed", reason: reply.reason });
      }
    }
    rounds.push(rows);
  }
  const rows = mergeRounds(rounds);
  const statusList = options.jobs.flatMap((j) => statuses.get(`${j.library}-${j.backend}`) ?? []);
  const seconds = (performance.now() - t0) / 1000;
  const reference = "neurite-cpu";
  const table = runChecks(checks, reference);
  const checkCell = applyChecks(rows, table, reference);
  const notesList = notes(statusList, table);
  const failedChecks = notesList.filter((n) => n.startsWith("CHECK FAILED"));
  if (failedChecks.length) process.stderr.write(`\n✗✗✗ ${failedChecks.length} correctness check(s) FAILED (still timed):\n${failedChecks.map((n) => `  ${n}`).join("\n")}\n\n`);
  if (!checks.has(reference)) process.stderr.write(`! ${reference} did not run: nothing to check the other libraries against\n`);

  const meta: Report["meta"] = {
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    date: new Date().toISOString(),
    loadavg: loadavg(),
    mode: mode.name,
    seconds: Math.round(seconds),
    backends: statusList,
  };
  const out = [
    `Neurite vs TensorFlow.js (${mode.name}) — ${meta.date.slice(0, 10)}, ${meta.cpu}, ${meta.cores} cores, Node ${meta.node}, ${meta.seconds} s`,
    "",
    "Throughput, higher is better (MB rows: lower is better). N/T = Neurite / TF.js. (n%) = share of the copy bandwidth of the same process. check = same values as neurite-cpu on seeded inputs.",
    "",
    markdownTable(rows, statusList, checkCell),
    "",
    ...[...activationSummary(rows), ...notesList].map((n) => `- ${n}`),
  ].join("\n");
  process.stdout.write(`${out}\n`);
  if (options.json) {
    writeJson(options.json, { meta, results: rows });
    process.stderr.write(`wrote ${options.json}\n`);
  }
  return statusList.some((s) => s.status === "failed") ? 1 : 0;
}

/** `--browser`: the page-based bench of browser.ts, loaded only here (it needs Vite and playwright-core). */
async function browserMain(options: CliOptions, timeoutMs: number): Promise<number> {
  const { browserJobsFailed, runBrowserBench } = await import("./browser.js");
  const libraries = [...new Set(options.jobs.filter((j) => j.backend === "wasm").map((j) => j.library))];
  const report = await runBrowserBench({
    quick: options.quick, suites: options.suites, libraries, threads: options.wasmThreadsGiven ? [options.wasmThreads] : [1, 2], rounds: options.rounds,
    timeoutMs, log: (m) => void process.stderr.write(`${m}\n`),
  });
  const { meta } = report;
  const head = `Neurite vs TensorFlow.js in ${meta.browser} (${meta.mode}) — ${meta.date.slice(0, 10)}, ${meta.cpu}, ${meta.cores} cores, ${meta.seconds} s, load average ${meta.loadavg.map((l) => l.toFixed(1)).join(" ")}`;
  const sections = Object.entries(report.tables).map(([t, table]) => `### ${t} thread${t === "1" ? "" : "s"}\n\n${table}`);
  process.stdout.write(`${[head, "", "Throughput, higher is better. N/T = Neurite / TF.js. check = same values as Neurite wasm on the same thread count.", "", sections.join("\n\n")].join("\n")}\n`);
  if (options.json) {
    writeJson(options.json, { meta, results: report.results });
    process.stderr.write(`wrote ${options.json}\n`);
  }
  return browserJobsFailed(report) ? 1 : 0;
}

// run only as the entry point (the tests import parseCli)
if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
