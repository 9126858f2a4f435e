import type { CaseResult, ConformanceReport } from "@neurite/testkit";

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function fmtErr(v: number | null): string {
  return v === null ? "-" : v === 0 ? "0" : v.toExponential(2);
}

/**
 * The report as text: one table row per (op, backend) with pass / fail / unsupported counts, the largest
 * absolute error and the largest relative error (|a − e| / |e|; an absolute 5e28 next to e = 3e38 is small), then every failed and unsupported case with its reason, then a summary line.
 */
export function formatReport(report: ConformanceReport): string {
  const groups = new Map<string, { op: string; backend: string; pass: number; fail: number; unsupported: number; maxAbsErr: number | null; maxRelErr: number | null }>();
  for (const c of report.cases) {
    const key = `${c.op}\u0000${c.backend}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { op: c.op, backend: c.backend, pass: 0, fail: 0, unsupported: 0, maxAbsErr: null, maxRelErr: null }));
    g[c.status]++;
    if (c.maxAbsErr !== null) g.maxAbsErr = Math.max(g.maxAbsErr ?? 0, c.maxAbsErr);
    if (c.maxRelErr !== null) g.maxRelErr = Math.max(g.maxRelErr ?? 0, c.maxRelErr);
  }
  const rows = [...groups.values()];
  const wOp = Math.max(2, ...rows.map((r) => r.op.length));
  const wB = Math.max(7, ...rows.map((r) => r.backend.length));
  const lines = [
    `${pad("op", wOp)}  ${pad("backend", wB)}  ${pad("pass", 5, true)}  ${pad("fail", 5, true)}  ${pad("unsupported", 11, true)}  ${pad("max abs err", 11, true)}  ${pad("max rel err", 11, true)}`,
    ...rows.map((r) => `${pad(r.op, wOp)}  ${pad(r.backend, wB)}  ${pad(String(r.pass), 5, true)}  ${pad(String(r.fail), 5, true)}  ${pad(String(r.unsupported), 11, true)}  ${pad(fmtErr(r.maxAbsErr), 11, true)}  ${pad(fmtErr(r.maxRelErr), 11, true)}`),
  ];
  const listed = (status: CaseResult["status"], mark: string): string[] =>
    report.cases.filter((c) => c.status === status).map((c) => `  ${mark} ${c.id} [${c.backend}] (${c.file}): ${c.message}`);
  const failed = listed("fail", "✗");
  const unsupported = listed("unsupported", "-");
  if (failed.length) lines.push("", "failed:", ...failed);
  if (unsupported.length) lines.push("", "unsupported:", ...unsupported);
  lines.push("", summaryLine(report));
  return lines.join("\n");
}

/** "conformance: 64 cases, 62 pass, 0 fail, 2 unsupported; backends: cpu; skipped: wasm (reason)". */
export function summaryLine(report: ConformanceReport): string {
  const { pass, fail, unsupported } = report.summary;
  const used = report.backends ? `; backends: ${report.backends.used.join(", ") || "none"}` : "";
  const skipped = report.backends && Object.keys(report.backends.skipped).length
    ? `; skipped: ${Object.entries(report.backends.skipped).map(([b, why]) => `${b} (${why})`).join(", ")}`
    : "";
  return `conformance: ${report.cases.length} results, ${pass} pass, ${fail} fail, ${unsupported} unsupported${used}${skipped}`;
}
