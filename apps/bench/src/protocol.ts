/** Types shared by the CLI, the worker processes and the report. */

export const SUITES = ["limit", "activation-forward", "activation-backward", "matmul", "train", "predict", "conv", "small"] as const;
export type Suite = (typeof SUITES)[number];

export type Library = "neurite" | "tfjs";

/** One measured row of the report (the JSON schema the issue fixes, plus `check` and `detail`). */
export interface ResultRow {
  readonly suite: Suite;
  readonly case: string;
  /** Elements ("4194304"), a shape ("4096x1024") or m x k x n for products ("128x784x256"). */
  readonly size: string;
  readonly library: Library;
  readonly backend: string;
  readonly threads: number;
  /** Median time of one run; null for rows that are not timings (memory). */
  readonly median_ms: number | null;
  readonly throughput: number;
  readonly unit: string;
  /** Whether this library computed the same values as Neurite (CPU) on the check inputs for this case. */
  check?: "pass" | "fail" | "n/a";
  /** A short remark shown next to the value in the table: share of copy bandwidth, "flat"/"GROWS". */
  readonly annotation?: string;
  /** Repetitions, memory details… */
  readonly detail?: string;
}

/** One library and backend to run in its own child process. */
export interface Job {
  readonly library: Library;
  readonly backend: string;
}

/** What the CLI sends a worker (as argv[2], JSON). */
export interface WorkerRequest extends Job {
  readonly suites: readonly Suite[];
  readonly quick: boolean;
  /** Threads asked of WASM backends (default 1: TF.js's WASM backend has one thread in Node). */
  readonly wasmThreads?: number;
}

/** What a worker sends back over IPC. */
export type WorkerReply =
  | {
      readonly ok: true;
      readonly job: Job;
      readonly threads: number;
      readonly info: Readonly<Record<string, string | number | boolean>>;
      readonly rows: ResultRow[];
      /** Outputs on the seeded check inputs, by check key, for comparison with Neurite CPU. */
      readonly checks: Readonly<Record<string, Float32Array>>;
      readonly notes: readonly string[];
    }
  | {
      readonly ok: false;
      readonly job: Job;
      /** Why the library could not run; `unavailable` when it is simply not built/installed. */
      readonly reason: string;
      readonly unavailable: boolean;
    };

/** The `--json` report. */
export interface Report {
  readonly meta: {
    readonly node: string;
    readonly cpu: string;
    readonly cores: number;
    readonly date: string;
    readonly loadavg: readonly number[];
    readonly mode: "quick" | "full";
    readonly seconds: number;
    readonly backends: readonly BackendStatus[];
  };
  readonly results: readonly ResultRow[];
}

/** Whether a library/backend ran, and what it reported about itself. */
export interface BackendStatus extends Job {
  readonly status: "ok" | "unavailable" | "failed";
  readonly threads?: number;
  readonly reason?: string;
  readonly info?: Readonly<Record<string, string | number | boolean>>;
  readonly notes?: readonly string[];
}
