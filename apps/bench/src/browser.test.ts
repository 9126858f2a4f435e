import { describe, expect, it } from "vitest";
import { runBrowserBench } from "./browser.js";
import { validateReport } from "./report.js";

// `pnpm bench --browser` on the smallest useful config: the matmul suite, both libraries, 2 threads, one round
// (12 s on the shared 2-core machine under load, most of it the Vite build and Chromium). Never asserts a timing.
describe("the browser bench", () => {
  it("runs Neurite wasm and TF.js wasm (threaded SIMD) in a cross-origin isolated Chromium page, in the Node bench's schema", async () => {
    const log: string[] = [];
    const report = await runBrowserBench({ quick: true, suites: ["matmul"], libraries: ["neurite", "tfjs"], threads: [2], rounds: 1, timeoutMs: 120000, log: (m) => log.push(m) });
    expect(validateReport(report)).toEqual([]);
    expect(report.meta.runtime).toBe("chromium");
    const statuses = Object.fromEntries(report.meta.backends.map((s) => [s.library, s]));
    expect(statuses.neurite, log.join("\n")).toMatchObject({ status: "ok", threads: 2, info: { sharedMemory: true } });
    expect(statuses.tfjs, log.join("\n")).toMatchObject({ status: "ok", threads: 2, info: { simd: true, multithread: true } });
    for (const library of ["neurite", "tfjs"]) {
      const rows = report.results.filter((r) => r.library === library);
      expect(rows.map((r) => r.case)).toContain("square 1024");
      for (const r of rows) {
        expect(r).toMatchObject({ suite: "matmul", backend: "wasm", threads: 2, unit: "GFLOP/s" });
        expect(r.throughput).toBeGreaterThan(0);
      }
    }
    // TF.js computed the same products as Neurite (the check column of the table), and no check failed
    expect(report.tables["2"]).toMatch(/\| matmul \| square 1024 \|.*\| ✓ \|/);
    expect(report.tables["2"]).not.toMatch(/CHECK FAILED/);
  }, 240000);
});
