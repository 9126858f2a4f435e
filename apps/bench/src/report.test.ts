import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type BackendStatus, type Report, type ResultRow, SUITES, type Suite } from "./protocol.js";
import { activationSummary, applyChecks, mergeRounds, formatRatio, formatSi, formatValue, markdownTable, notes, runChecks, sig3, validateReport, writeJson } from "./report.js";

const row = (over: Partial<ResultRow>): ResultRow => ({
  suite: "matmul", case: "square 128", size: "128x128x128", library: "neurite", backend: "cpu", threads: 1,
  median_ms: 1, throughput: 4, unit: "GFLOP/s", ...over,
});

describe("number formatting", () => {
  it("keeps three significant digits", () => {
    expect(sig3(0.012345)).toBe("0.0123");
    expect(sig3(1.5)).toBe("1.50");
    expect(sig3(123.4)).toBe("123");
    expect(sig3(0)).toBe("0");
  });
  it("uses SI suffixes for rates", () => {
    expect(formatSi(1_234_567)).toBe("1.23 M");
    expect(formatSi(2.5e9)).toBe("2.50 G");
    expect(formatSi(999)).toBe("999");
    expect(formatSi(12_500)).toBe("12.5 k");
  });
  it("writes a row's value in its unit, with its annotation", () => {
    expect(formatValue({ throughput: 4.2e8, unit: "elem/s", annotation: "31%" })).toBe("420 M (31%)");
    expect(formatValue({ throughput: 12.345, unit: "GFLOP/s" })).toBe("12.3");
    expect(formatValue({ throughput: 208.74, unit: "MB" })).toBe("208.7");
  });
  it("ratios are Neurite / TF.js, and '–' where one is missing", () => {
    expect(formatRatio(3, 1.5)).toBe("2.00×");
    expect(formatRatio(1, 4)).toBe("0.25×");
    expect(formatRatio(undefined, 4)).toBe("–");
    expect(formatRatio(1, 0)).toBe("–");
  });
});

describe("markdownTable", () => {
  const statuses: BackendStatus[] = [
    { library: "neurite", backend: "cpu", status: "ok", threads: 1 },
    { library: "tfjs", backend: "cpu", status: "ok", threads: 1 },
    { library: "neurite", backend: "wasm", status: "unavailable", reason: "backend-wasm not built" },
    { library: "tfjs", backend: "wasm", status: "ok", threads: 1 },
  ];
  const rows = [
    row({ throughput: 6 }),
    row({ library: "tfjs", throughput: 2 }),
    row({ library: "tfjs", backend: "wasm", throughput: 10 }),
    row({ suite: "limit", case: "copy Float32Array.set", size: "4194304", unit: "elem/s", throughput: 1e9 }),
  ];
  const table = markdownTable(rows, statuses, (suite) => (suite === "matmul" ? "✓" : ""));
  const lines = table.split("\n");
  it("has a header, an alignment line and one line per (suite, case, size)", () => {
    expect(lines).toHaveLength(2 + 2);
    expect(lines[0]).toBe("| suite | case | size | unit | neurite cpu | tfjs cpu | cpu N/T | neurite wasm | tfjs wasm | wasm N/T | check |");
    for (const l of lines) expect(l.split("|").length).toBe(lines[0]!.split("|").length);
  });
  it("puts each library side by side with the Neurite / TF.js ratio", () => {
    expect(lines[2]).toBe("| matmul | square 128 | 128x128x128 | GFLOP/s | 6.00 | 2.00 | 3.00× | n/a (backend-wasm not built) | 10.0 | – | ✓ |");
  });
  it("marks what did not run", () => {
    expect(lines[3]).toContain("| 1.00 G | – | – | n/a (backend-wasm not built) | – | – |");
  });
});

describe("mergeRounds", () => {
  it("keeps the median round of each row, the largest peak and the worst memory verdict", () => {
    const speed = (t: number) => row({ throughput: t, median_ms: 1 / t });
    const peak = (mb: number) => row({ suite: "train", case: "peak rss", size: "train", unit: "MB", throughput: mb, median_ms: null });
    const growth = (mb: number, annotation: string) => row({ suite: "train", case: "memory growth, steps 20→100", size: "b1", unit: "MB", throughput: mb, median_ms: null, annotation });
    const merged = mergeRounds([
      [speed(3), peak(100), growth(0.1, "flat")],
      [speed(9), peak(140), growth(6, "GROWS")],
      [speed(5), peak(120), growth(0.2, "flat")],
    ]);
    expect(merged.map((r) => [r.case, r.throughput, r.annotation ?? ""])).toEqual([
      ["square 128", 5, ""], ["peak rss", 140, ""], ["memory growth, steps 20→100", 6, "GROWS"],
    ]);
    expect(merged[0]!.detail).toBe("3 rounds, 3.00–9.00 GFLOP/s");
  });
  it("keeps rows of different jobs apart and passes a single round through unchanged", () => {
    const rounds = [[row({ throughput: 1 }), row({ library: "tfjs", throughput: 2 })]];
    expect(mergeRounds(rounds)).toEqual(rounds[0]);
    expect(mergeRounds([...rounds, [row({ throughput: 3 }), row({ library: "tfjs", throughput: 4 })]]).map((r) => r.throughput)).toEqual([1, 2]);
  });
});

describe("activationSummary", () => {
  it("gives the geometric mean and the lowest Neurite / TF.js ratio over the large activation rows of each backend", () => {
    const act = (library: "neurite" | "tfjs", c: string, size: string, throughput: number, suite: Suite = "activation-forward"): ResultRow =>
      row({ suite, case: c, size, library, backend: "wasm", unit: "elem/s", throughput });
    const rows = [
      act("neurite", "relu", "4194304", 8), act("tfjs", "relu", "4194304", 2), // 4×
      act("neurite", "softmax", "4096x1024", 1), act("tfjs", "softmax", "4096x1024", 2), // 0.5×
      act("neurite", "elu", "4194304", 4, "activation-backward"), act("tfjs", "elu", "4194304", 1), // 4× but no matching tfjs row (other suite)
      act("neurite", "elu", "65536", 100), act("tfjs", "elu", "65536", 1), // small: not a target row
    ];
    expect(activationSummary(rows)).toEqual(["wasm activations at 2^22 and softmax 4096x1024 (2 rows): geometric mean N/T 1.41×, lowest 0.50× (fwd softmax 4096x1024)"]);
  });
});

describe("checks against Neurite CPU", () => {
  const ref = { "matmul:nn": Float32Array.from([1, 2, 3]), predict: Float32Array.from([0.5]) };
  const checks = new Map([
    ["neurite-cpu", ref],
    ["tfjs-cpu", { "matmul:nn": Float32Array.from([1, 2, 3.00001]), predict: Float32Array.from([0.5]) }],
    ["tfjs-wasm", { "matmul:nn": Float32Array.from([1, 2, 4]), predict: Float32Array.from([0.5]) }],
  ]);
  const table = runChecks(checks, "neurite-cpu");
  it("pass where values agree and fail loudly where they do not", () => {
    expect(table.get("tfjs-cpu")!.get("matmul:nn")!.ok).toBe(true);
    expect(table.get("tfjs-wasm")!.get("matmul:nn")!.ok).toBe(false);
    const rows = [row({}), row({ library: "tfjs" }), row({ library: "tfjs", backend: "wasm" }), row({ suite: "predict", case: "mlp", library: "tfjs", backend: "wasm" })];
    const cell = applyChecks(rows, table, "neurite-cpu");
    expect(cell("matmul", "square 128")).toBe("✗ tfjs-wasm");
    expect(cell("predict", "mlp")).toBe("✓");
    expect(cell("limit", "copy Float32Array.set")).toBe("");
    expect(rows.map((r) => r.check)).toEqual(["fail", "pass", "fail", "pass"]);
    const failed = notes([], table).filter((n) => n.startsWith("CHECK FAILED"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/tfjs-wasm matmul:nn: 1 element\(s\) outside tolerance/);
  });
  it("a missing output counts as a failure", () => {
    const t = runChecks(new Map<string, Record<string, Float32Array>>([["neurite-cpu", ref], ["tfjs-cpu", { predict: Float32Array.from([0.5]) }]]), "neurite-cpu");
    expect(t.get("tfjs-cpu")!.get("matmul:nn")).toMatchObject({ ok: false, reason: "missing" });
  });
});

describe("the JSON report", () => {
  const report: Report = {
    meta: { node: "v20.20.2", cpu: "Some CPU", cores: 2, date: "2026-11-29T00:00:00.000Z", loadavg: [0.1, 0.2, 0.3], mode: "quick", seconds: 100, backends: [] },
    results: [row({}), row({ suite: "train", case: "peak rss", size: "train", median_ms: null, throughput: 200, unit: "MB" })],
  };
  it("follows the schema after a round trip through the file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "bench-")), "out.json");
    writeJson(file, report);
    const back: unknown = JSON.parse(readFileSync(file, "utf8"));
    expect(validateReport(back)).toEqual([]);
    expect(back).toEqual(report);
  });
  it("accepts rows of every suite the bench writes, conv and small included", () => {
    const every = { ...report, results: SUITES.map((suite) => row({ suite })) };
    expect(validateReport(every)).toEqual([]);
    expect(SUITES).toContain("conv");
    expect(SUITES).toContain("small");
  });
  it("names each problem of a report that does not", () => {
    const bad = { meta: { ...report.meta, cores: "2" }, results: [{ ...row({}), suite: "convolution", library: "torch", median_ms: "1" }] };
    expect(validateReport(bad)).toEqual([
      "meta.cores must be a number",
      `results[0].suite "convolution" is not one of ${SUITES.join(", ")}`,
      'results[0].library must be "neurite" or "tfjs"',
      "results[0].median_ms must be a number or null",
    ]);
    expect(validateReport([])).toEqual(["the report is not an object"]);
  });
});
