/** One checked case of a reference file on one backend. Every case read is reported: never dropped. */
export type CaseStatus = "pass" | "fail" | "unsupported";

export interface CaseResult {
  readonly file: string;
  readonly id: string;
  readonly backend: string;
  readonly status: CaseStatus;
  /** Largest absolute error over every compared value (null when nothing was compared). */
  readonly maxAbsErr: number | null;
  /** Largest |a − e| / |e| where the relative tolerance governs, rtol·|e| > atol (null when nothing was compared). */
  readonly maxRelErr: number | null;
  /** Why it failed or is unsupported; empty when it passed. */
  readonly message: string;
  /** The op (activation cases) or section (mlp cases), for the per-op table. */
  readonly op: string;
}

export interface ConformanceReport {
  readonly cases: CaseResult[];
  readonly summary: { pass: number; fail: number; unsupported: number };
  /** The backends the cases ran on, and those requested but skipped, with the reason. */
  readonly backends?: { readonly used: readonly string[]; readonly skipped: Readonly<Record<string, string>> };
}

/** Options every section runner receives. */
export interface RunOptions {
  /** Registered backend names to run on. */
  readonly backends: readonly string[];
  /** The file's path as given, for the report. */
  readonly file: string;
  /** Backends requested but not usable, with the reason: every case is reported unsupported on them. */
  readonly unavailable?: Readonly<Record<string, string>>;
}
