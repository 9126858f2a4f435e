/** profile(): exact kernel counts of known op sequences, nesting, async functions, errors, and the backend left as it was. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Backend, type ProfileReport, abs, add, backendInstance, matmul, profile, sum, tensor } from "@neurite/core";
import { expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Calls per kernel kind, and per "kernel op" for elementwise and reduce. */
function counts(report: ProfileReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of report.kernels) out[row.kernel] = row.calls;
  for (const row of report.ops) if (row.kernel === "elementwise" || row.kernel === "reduce") out[`${row.kernel} ${row.op}`] = row.calls;
  return out;
}

/** The backend's own properties that observing replaces, as they are now. */
function ownKernelProperties(backend: Backend): unknown[] {
  return ["elementwise", "reduce", "matmul", "gather", "scatterAdd", "alloc", "upload", "free", "read", "readAsync", "kernels"].map((k) =>
    Object.getOwnPropertyDescriptor(backend, k)?.value as unknown);
}

forEachBackend("profile", (name) => {
  const a = (): ReturnType<typeof tensor> => tensor([[1, 2], [3, 4]]);

  test("one matmul and one add are counted as exactly 1 matmul and 1 elementwise add", () => {
    const x = a(), y = a();
    const report = profile(() => add(matmul(x, y), y));
    expect(counts(report)).toEqual({ matmul: 1, elementwise: 1, "elementwise add": 1 });
    // [[1,2],[3,4]]² + [[1,2],[3,4]] computed independently
    expect(Array.from(report.result.dataSync())).toEqual([8, 12, 18, 26]);
    expect(report.backend).toBe(name);
    expect(report.calls.map((c) => c.kernel)).toEqual(["matmul", "elementwise"]);
    expect(report.ops.find((r) => r.kernel === "matmul")!.op).toBe("2×2×2");
    // a 2×2×2 product is 8 multiply-adds
    expect(report.ops.find((r) => r.kernel === "matmul")!.flops).toBe(16);
    for (const row of report.kernels) {
      expect(row.totalUs).toBeGreaterThanOrEqual(0);
      expect(row.medianUs).toBeGreaterThanOrEqual(0);
      expect(row.share).toBeGreaterThanOrEqual(0);
      expect(Object.values(row.threads).reduce((s, c) => s + c, 0)).toBe(row.calls);
    }
    expect(report.totalUs).toBeGreaterThanOrEqual(0);
    const text = report.format();
    expect(text).toMatch(new RegExp(`^profile on ${name}: .* 2 kernel calls`));
    expect(text).toContain("elementwise add");
    expect(text).toContain("matmul 2×2×2");
    [x, y, report.result].forEach((t) => t.dispose());
  });

  test("an op chain is counted per op: abs, add and a sum", () => {
    const x = tensor([-1, 2, -3, 4]);
    const report = profile(() => sum(add(abs(x), x)));
    const c = counts(report);
    expect(c["elementwise abs"]).toBe(1);
    expect(c["elementwise add"]).toBe(1);
    expect(c["reduce sum"]).toBe(1);
    // |x| sums to 10, x to 2
    expect(report.result.dataSync()[0]).toBe(12);
    [x, report.result].forEach((t) => t.dispose());
  });

  test("nested profiles each count the calls made while they run", () => {
    const x = a();
    let inner: ProfileReport<void> | undefined;
    const outer = profile(() => {
      add(x, x).dispose();
      inner = profile(() => add(x, x).dispose());
      matmul(x, x).dispose();
    });
    expect(counts(inner!)).toEqual({ elementwise: 1, "elementwise add": 1 });
    expect(counts(outer)).toEqual({ elementwise: 2, "elementwise add": 2, matmul: 1 });
    x.dispose();
  });

  test("an async function is profiled until its promise settles", async () => {
    const x = a();
    const report = await profile(async () => {
      add(x, x).dispose();
      await new Promise((resolve) => setTimeout(resolve, 1));
      matmul(x, x).dispose();
      return "done";
    });
    expect(report.result).toBe("done");
    expect(counts(report)).toEqual({ elementwise: 1, "elementwise add": 1, matmul: 1 });
    x.dispose();
  });

  test("the backend is left exactly as it was: after a profile, after nested ones, and when fn throws", async () => {
    const backend = await backendInstance(name);
    const before = ownKernelProperties(backend);
    const x = a();
    profile(() => profile(() => add(x, x).dispose()));
    expect(ownKernelProperties(backend)).toEqual(before);
    expect(() => profile(() => { throw new RangeError("boom"); })).toThrow("boom");
    expect(ownKernelProperties(backend)).toEqual(before);
    await expect(profile(() => Promise.reject(new RangeError("async boom")))).rejects.toThrow("async boom");
    expect(ownKernelProperties(backend)).toEqual(before);
    // and nothing is counted any more: a profile after them sees only its own call
    expect(counts(profile(() => add(x, x).dispose()))).toEqual({ elementwise: 1, "elementwise add": 1 });
    x.dispose();
  });

  test("every call reports the threads it ran on (1 on this backend's default single thread)", () => {
    const x = a();
    const report = profile(() => matmul(x, x).dispose());
    expect(report.calls.map((c) => c.threads)).toEqual([1]);
    x.dispose();
  });
});

test("NEURITE_PROFILE=1 prints one profile of each fit on stderr", () => {
  const script = `
    import { sequential, setBackend, use, tensor } from "@neurite/core";
    import { cpuBackend } from "@neurite/backend-cpu";
    use(cpuBackend);
    await setBackend("cpu");
    const model = sequential([{ type: "dense", units: 3, inputShape: [2] }, { type: "dense", units: 1 }]);
    model.compile({ optimizer: "sgd", loss: "mse" });
    await model.fit(tensor([[0, 1], [1, 0], [1, 1], [0, 0]]), tensor([[1], [1], [0], [0]]), { epochs: 2, batchSize: 2 });
    console.log("fitted");`;
  const run = (env: Record<string, string>): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: PACKAGE_ROOT, encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
  const on = run({ NEURITE_PROFILE: "1" });
  expect(on.status, String(on.stderr)).toBe(0);
  expect(String(on.stdout).trim()).toBe("fitted");
  expect(String(on.stderr).match(/NEURITE_PROFILE fit of 4 samples/g)).toHaveLength(1);
  expect(String(on.stderr)).toMatch(/profile on cpu: .* kernel calls/);
  expect(String(on.stderr)).toMatch(/\n(matmul|matmulEpilogue) /);
  const off = run({ NEURITE_PROFILE: "" });
  expect(off.status, String(off.stderr)).toBe(0);
  expect(String(off.stderr)).not.toContain("NEURITE_PROFILE");
});
