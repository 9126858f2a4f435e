/** The markdown table (stdout, README) and the JSON report. */
import { writeFileSync } from "node:fs";
import { type Comparison, checkKeys, compare, toleranceFor } from "./check.js";
import { type BackendStatus, type Job, type Report, type ResultRow, SUITES, type Suite } from "./protocol.js";
import { UNSUPPORTED } from "./conv-suite.js";

/** `value` with three significant digits and an SI suffix: 1234567 → "1.23 M". */
export function formatSi(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const units: [number, string][] = [[1e12, " T"], [1e9, " G"], [1e6, " M"], [1e3, " k"]];
  for (const [scale, suffix] of units) if (abs >= scale) return `${sig3(value / scale)}${suffix}`;
  return sig3(value);
}

/** Three significant digits, no exponent: 0.01234 → "0.0123", 123.4 → "123", 1.5 → "1.50". */
export function sig3(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return value.toFixed(Math.min(digits, 6));
}

/** How a row's value is written in the table. */
export function formatValue(row: Pick<ResultRow, "throughput" | "unit" | "annotation">): string {
  // a case the library cannot run (conv-suite.ts): the annotation says why
  if (row.annotation?.startsWith("n/a (")) return row.annotation;
  let v: string;
  if (row.unit === "elem/s" || row.unit === "samples/s") v = formatSi(row.throughput);
  else if (row.unit === "MB") v = row.throughput.toFixed(1);
  else v = sig3(row.throughput);
  return row.annotation ? `${v} (${row.annotation})` : v;
}

/** Neurite / TF.js, both values in the row's unit; "–" where either is missing. */
export function formatRatio(neurite: number | undefined, tfjs: number | undefined): string {
  if (neurite === undefined || tfjs === undefined || !Number.isFinite(neurite) || !Number.isFinite(tfjs) || tfjs === 0) return "–";
  return `${(neurite / tfjs).toFixed(2)}×`;
}

const jobName = (j: Job): string => `${j.library}-${j.backend}`;
const rowKey = (r: Pick<ResultRow, "suite" | "case" | "size">): string => `${r.suite}|${r.case}|${r.size}`;

/** The check outcome of each job for each check key, against Neurite CPU. */
export type CheckTable = Map<string, Map<string, Comparison>>;

/** Compares every job's check outputs with the reference job's (Neurite CPU). */
export function runChecks(checks: ReadonlyMap<string, Readonly<Record<string, Float32Array>>>, reference: string): CheckTable {
  const out: CheckTable = new Map();
  const ref = checks.get(reference);
  if (!ref) return out;
  for (const [job, values] of checks) {
    if (job === reference) continue;
    const m = new Map<string, Comparison>();
    for (const [key, expected] of Object.entries(ref)) {
      const actual = values[key];
      // the job said it cannot compute this (an unsupported-case marker, see conv-suite.ts): nothing to compare
      if (!actual && values[`${UNSUPPORTED}${key}`]) continue;
      m.set(key, actual ? compare(actual, expected, toleranceFor(key)) : { ok: false, mismatches: expected.length, maxAbs: Infinity, worst: Infinity, reason: "missing" });
    }
    out.set(job, m);
  }
  return out;
}

/** Sets each row's `check`, and returns the cell for the table's ✓ column of a (suite, case). */
export function applyChecks(rows: ResultRow[], table: CheckTable, reference: string): (suite: Suite, caseName: string) => string {
  const verdict = (job: string, keys: readonly string[]): boolean | undefined => {
    if (job === reference) return table.size > 0 ? keys.every((k) => [...table.values()].every((m) => !m.has(k) || m.get(k)!.ok)) : undefined;
    const m = table.get(job);
    return m ? keys.every((k) => m.get(k)?.ok === true) || (keys.every((k) => !m.has(k) || m.get(k)!.ok) ? undefined : false) : undefined;
  };
  for (const r of rows) {
    const keys = checkKeys(r.suite, r.case);
    const v = keys.length ? verdict(jobName(r), keys) : undefined;
    r.check = v === undefined ? "n/a" : v ? "pass" : "fail";
  }
  return (suite, caseName) => {
    const keys = checkKeys(suite, caseName);
    if (!keys.length) return "";
    if (table.size === 0) return "–"; // nothing ran beside the reference (or the reference did not run)
    const failing = [...table.entries()].filter(([, m]) => keys.some((k) => m.get(k)?.ok === false)).map(([j]) => j);
    return failing.length ? `✗ ${failing.join(", ")}` : "✓";
  };
}

/** The markdown table: one line per (suite, case, size), a column per library and backend, Neurite / TF.js ratios. */
export function markdownTable(rows: readonly ResultRow[], statuses: readonly BackendStatus[], checkCell: (suite: Suite, caseName: string) => string): string {
  const backends = [...new Set(statuses.map((s) => s.backend))];
  const byKey = new Map<string, Map<string, ResultRow>>();
  const order: ResultRow[] = [];
  for (const r of rows) {
    const k = rowKey(r);
    if (!byKey.has(k)) {
      byKey.set(k, new Map());
      order.push(r);
    }
    byKey.get(k)!.set(jobName(r), r);
  }
  const statusOf = new Map(statuses.map((s) => [jobName(s), s]));
  const cell = (line: Map<string, ResultRow>, job: Job): string => {
    const r = line.get(jobName(job));
    if (r) return formatValue(r);
    const s = statusOf.get(jobName(job));
    if (!s) return "–";
    if (s.status === "unavailable") return `n/a (${s.reason ?? "unavailable"})`;
    if (s.status === "failed") return "failed";
    return "–";
  };
  const header = ["suite", "case", "size", "unit"];
  for (const b of backends) {
    header.push(`neurite ${b}`, `tfjs ${b}`, `${b} N/T`);
  }
  header.push("check");
  const lines = [header, header.map((h) => (h.endsWith("N/T") ? "--:" : h === "check" || h === "suite" || h === "case" || h === "unit" || h === "size" ? "--" : "--:"))];
  for (const first of order) {
    const line = byKey.get(rowKey(first))!;
    const cells = [first.suite, first.case, first.size, first.unit];
    for (const b of backends) {
      const n = { library: "neurite", backend: b } as const;
      const t = { library: "tfjs", backend: b } as const;
      // a ratio of two memory deltas (either may be 0 or negative) says nothing: the verdicts do
      const ratio = first.case.startsWith("memory growth") ? "–" : formatRatio(line.get(jobName(n))?.throughput, line.get(jobName(t))?.throughput);
      cells.push(cell(line, n), cell(line, t), ratio);
    }
    cells.push(checkCell(first.suite, first.case));
    lines.push(cells);
  }
  return lines.map((l) => `| ${l.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`).join("\n");
}

/**
 * One row per (job, suite, case, size) out of several rounds of the same jobs: the median round's row by
 * throughput (the lower middle for an even count), its detail extended with the spread. Peak-memory rows
 * take the largest round and memory-growth rows the worst verdict, so that repeating never hides a cost.
 */
export function mergeRounds(rounds: readonly (readonly ResultRow[])[]): ResultRow[] {
  if (rounds.length === 1) return [...rounds[0]!];
  const groups = new Map<string, ResultRow[]>();
  for (const rows of rounds) {
    for (const r of rows) {
      const k = `${jobName(r)}|${rowKey(r)}`;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
  }
  return [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => a.throughput - b.throughput);
    const growth = g[0]!.case.startsWith("memory growth");
    const pick = g[0]!.case.startsWith("peak") ? sorted[sorted.length - 1]! : growth ? (g.find((r) => r.annotation === "GROWS") ?? sorted[(sorted.length - 1) >> 1]!) : sorted[(sorted.length - 1) >> 1]!;
    if (g.length === 1) return pick;
    const spread = `${g.length} rounds, ${sig3(sorted[0]!.throughput)}–${sig3(sorted[sorted.length - 1]!.throughput)} ${pick.unit}`;
    return { ...pick, detail: pick.detail ? `${pick.detail}; ${spread}` : spread };
  });
}

/** Whether a row is one the activation targets are stated over: 2^22 elements, or softmax [4096, 1024]. */
function isActivationTarget(r: Pick<ResultRow, "suite" | "size">): boolean {
  return (r.suite === "activation-forward" || r.suite === "activation-backward") && (r.size === String(2 ** 22) || r.size === "4096x1024");
}

/**
 * Per backend, over the large activation rows (forward and forward + backward): the geometric mean of
 * Neurite / TF.js and the lowest ratio, the two numbers the activation targets are stated in.
 */
export function activationSummary(rows: readonly ResultRow[]): string[] {
  const out: string[] = [];
  for (const backend of [...new Set(rows.map((r) => r.backend))]) {
    const tf = new Map(rows.filter((r) => r.library === "tfjs" && r.backend === backend).map((r) => [rowKey(r), r.throughput]));
    const ratios = rows
      .filter((r) => r.library === "neurite" && r.backend === backend && isActivationTarget(r) && (tf.get(rowKey(r)) ?? 0) > 0)
      .map((r) => ({ name: `${r.suite === "activation-forward" ? "fwd" : "fwd+bwd"} ${r.case} ${r.size}`, ratio: r.throughput / tf.get(rowKey(r))! }));
    if (ratios.length === 0) continue;
    const geo = Math.exp(ratios.reduce((s, x) => s + Math.log(x.ratio), 0) / ratios.length);
    const low = ratios.reduce((a, b) => (b.ratio < a.ratio ? b : a));
    out.push(`${backend} activations at 2^22 and softmax 4096x1024 (${ratios.length} rows): geometric mean N/T ${geo.toFixed(2)}×, lowest ${low.ratio.toFixed(2)}× (${low.name})`);
  }
  return out;
}

/** The notes under the table: what each backend is, what was unavailable, and every failed check in detail. */
export function notes(statuses: readonly BackendStatus[], table: CheckTable): string[] {
  const out: string[] = [];
  for (const s of statuses) {
    const name = jobName(s);
    if (s.status === "ok") {
      const info = Object.entries(s.info ?? {}).map(([k, v]) => `${k} ${String(v)}`).join(", ");
      out.push(`${name}: ${s.threads ?? 1} thread(s)${info ? `; ${info}` : ""}`);
      for (const n of s.notes ?? []) out.push(`${name}: ${n}`);
    } else {
      out.push(`${name}: ${s.status === "unavailable" ? "n/a" : "FAILED"}: ${s.reason ?? ""}`);
    }
  }
  for (const [job, m] of table) {
    for (const [key, c] of m) {
      if (!c.ok) out.push(`CHECK FAILED ${job} ${key}: ${c.reason ?? `${c.mismatches} element(s) outside tolerance, max |diff| ${c.maxAbs.toExponential(2)}, worst ${c.worst.toFixed(1)}× the tolerance`}`);
    }
  }
  return out;
}

/** Writes the JSON report. */
export function writeJson(file: string, report: Report): void {
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

/** Checks that a value has the report's shape (the schema the issue fixes); returns the problems found. */
export function validateReport(value: unknown): string[] {
  const problems: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(value)) return ["the report is not an object"];
  const meta = value.meta;
  if (!isObj(meta)) problems.push("meta is missing");
  else {
    for (const k of ["node", "cpu", "date"] as const) if (typeof meta[k] !== "string") problems.push(`meta.${k} must be a string`);
    if (typeof meta.cores !== "number") problems.push("meta.cores must be a number");
    if (!Array.isArray(meta.loadavg) || !meta.loadavg.every((n) => typeof n === "number")) problems.push("meta.loadavg must be an array of numbers");
  }
  if (!Array.isArray(value.results)) return [...problems, "results must be an array"];
  const suites: readonly string[] = SUITES;
  value.results.forEach((r: unknown, i) => {
    if (!isObj(r)) return void problems.push(`results[${i}] is not an object`);
    if (!suites.includes(r.suite as string)) problems.push(`results[${i}].suite ${JSON.stringify(r.suite)} is not one of ${suites.join(", ")}`);
    if (r.library !== "neurite" && r.library !== "tfjs") problems.push(`results[${i}].library must be "neurite" or "tfjs"`);
    for (const k of ["case", "size", "backend", "unit"]) if (typeof r[k] !== "string") problems.push(`results[${i}].${k} must be a string`);
    if (typeof r.threads !== "number") problems.push(`results[${i}].threads must be a number`);
    if (typeof r.throughput !== "number") problems.push(`results[${i}].throughput must be a number`);
    if (typeof r.median_ms !== "number" && r.median_ms !== null) problems.push(`results[${i}].median_ms must be a number or null`);
  });
  return problems;
}
