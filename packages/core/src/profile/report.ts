/**
 * What a profile holds: one {@link KernelCall} record per observed kernel call, summed into rows per kernel kind and
 * per op, and printed as a table.
 */

/** One observed kernel call. */
export interface KernelCall {
  /** The backend method: `elementwise`, `matmul`, … (`kernels.<name>` for optional kernels, without the prefix). */
  readonly kernel: string;
  /** What it computed, where known: the elementwise op (`"add"`, `"relu'"`), the reduction, the product's shape. */
  readonly op: string;
  /** Wall-clock microseconds the call took. */
  readonly us: number;
  /** Threads it ran on (1 when the backend does not say). */
  readonly threads: number;
  /** Bytes it read and wrote at least once (an estimate from the argument sizes; 0 where not estimated). */
  readonly bytes: number;
  /** Floating-point operations (multiply-adds count 2; elementwise and reductions count 1 per element). */
  readonly flops: number;
}

/** A row of a profile: the calls of one kernel kind, or of one op of a kernel kind. */
export interface ProfileRow {
  readonly kernel: string;
  /** The op, in rows per op; undefined in rows per kernel kind. */
  readonly op?: string;
  readonly calls: number;
  /** Summed wall-clock time of the calls, µs. */
  readonly totalUs: number;
  /** Median time of one call, µs. */
  readonly medianUs: number;
  /** `totalUs` over the profiled function's wall-clock time (0 … 1). */
  readonly share: number;
  readonly bytes: number;
  readonly flops: number;
  /** Calls by the thread count they ran on: `{ 1: 12, 2: 3 }`. */
  readonly threads: Readonly<Record<number, number>>;
}

/** What {@link profile} returns: the profiled function's result and where its time went. */
export interface ProfileReport<T = unknown> {
  /** What the profiled function returned (awaited, for an async one). */
  readonly result: T;
  /** The backend profiled: the active one when the profile began. */
  readonly backend: string;
  /** Wall-clock µs of the whole function. */
  readonly totalUs: number;
  /** µs spent inside kernel calls; `totalUs − kernelUs` is the framework's own JavaScript (and, if async, waiting). */
  readonly kernelUs: number;
  /** Every kernel call, in order. */
  readonly calls: readonly KernelCall[];
  /** One row per kernel kind, most time first. */
  readonly kernels: readonly ProfileRow[];
  /** One row per kernel kind and op, most time first. */
  readonly ops: readonly ProfileRow[];
  /** The report as a text table (kernel kinds, then the `maxOps` ops that took most time; default 20). */
  format(options?: { readonly maxOps?: number }): string;
}

const median = (sorted: readonly number[]): number => {
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Sums calls into rows keyed by `keyOf`, most time first. */
function rowsOf(calls: readonly KernelCall[], totalUs: number, withOp: boolean): ProfileRow[] {
  const groups = new Map<string, KernelCall[]>();
  for (const c of calls) {
    const key = withOp ? `${c.kernel}\u0000${c.op}` : c.kernel;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(c);
  }
  const rows: ProfileRow[] = [];
  for (const g of groups.values()) {
    let us = 0, bytes = 0, flops = 0;
    const threads: Record<number, number> = {};
    for (const c of g) {
      us += c.us;
      bytes += c.bytes;
      flops += c.flops;
      threads[c.threads] = (threads[c.threads] ?? 0) + 1;
    }
    rows.push({
      kernel: g[0]!.kernel,
      ...(withOp ? { op: g[0]!.op } : {}),
      calls: g.length,
      totalUs: us,
      medianUs: median(g.map((c) => c.us).sort((a, b) => a - b)),
      share: totalUs > 0 ? us / totalUs : 0,
      bytes,
      flops,
      threads,
    });
  }
  return rows.sort((a, b) => b.totalUs - a.totalUs);
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : "–");

/** "1×12 2×3": calls per thread count. */
const threadsText = (t: Readonly<Record<number, number>>): string =>
  Object.entries(t).sort(([a], [b]) => Number(a) - Number(b)).map(([n, c]) => `${n}×${c}`).join(" ");

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (rightAligned[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function formatRows(rows: readonly ProfileRow[], withOp: boolean): string {
  const header = [withOp ? "kernel / op" : "kernel", "calls", "total ms", "median µs", "share", "GFLOP/s", "GB/s", "threads (×calls)"];
  const cells = rows.map((r) => [
    withOp ? `${r.kernel} ${r.op}` : r.kernel,
    String(r.calls),
    fixed(r.totalUs / 1000, 3),
    fixed(r.medianUs, 1),
    `${fixed(r.share * 100, 1)} %`,
    r.flops > 0 && r.totalUs > 0 ? fixed(r.flops / r.totalUs / 1000, 1) : "",
    r.bytes > 0 && r.totalUs > 0 ? fixed(r.bytes / r.totalUs / 1000, 1) : "",
    threadsText(r.threads),
  ]);
  return table(header, cells, [false, true, true, true, true, true, true, false]);
}

/** @internal builds the report from the calls observed over `totalUs`. */
export function buildReport<T>(result: T, backend: string, totalUs: number, calls: readonly KernelCall[]): ProfileReport<T> {
  const kernels = rowsOf(calls, totalUs, false);
  const ops = rowsOf(calls, totalUs, true);
  const kernelUs = calls.reduce((s, c) => s + c.us, 0);
  return {
    result,
    backend,
    totalUs,
    kernelUs,
    calls,
    kernels,
    ops,
    format({ maxOps = 20 } = {}) {
      const outside = Math.max(0, totalUs - kernelUs);
      const head =
        `profile on ${backend}: ${fixed(totalUs / 1000, 3)} ms in all, ${calls.length} kernel calls taking ${fixed(kernelUs / 1000, 3)} ms ` +
        `(${fixed(totalUs > 0 ? (kernelUs / totalUs) * 100 : 0, 1)} %); outside kernels ${fixed(outside / 1000, 3)} ms`;
      const shown = ops.slice(0, Math.max(0, maxOps));
      const more = ops.length > shown.length ? `\n… ${ops.length - shown.length} more ops` : "";
      return `${head}\n\n${formatRows(kernels, false)}\n\n${formatRows(shown, true)}${more}`;
    },
  };
}
