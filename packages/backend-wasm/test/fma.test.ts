import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("./fma-check.mjs", import.meta.url));

interface Report {
  relaxedSimd: boolean;
  chosen: Record<"auto1" | "auto2" | "off", string>;
  errors: Record<"auto1" | "auto2" | "off", number>;
  fmaVsPlain: number;
  differing: number;
  values: number;
  forced: string;
  threadsDiffer?: boolean;
  given: Record<"plain" | "fused" | "plainAsFma" | "fusedAsPlain", string>;
  witness: Record<"exact" | "auto1" | "auto2" | "off", number>;
}

/** fma-check.mjs in a fresh node: relaxed SIMD is decided per process, by V8's flags. */
function check(flags: string[]): Report {
  const run = spawnSync(process.execPath, [...flags, SCRIPT], { encoding: "utf8", timeout: 60000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

describe("the matmul kernel variant, chosen by what the engine runs", () => {
  it("is the fused relaxed-SIMD kernel under --experimental-wasm-relaxed-simd, within float32 error of float64", () => {
    const r = check(["--experimental-wasm-relaxed-simd"]);
    expect(r.relaxedSimd).toBe(true);
    expect(r.chosen).toEqual({ auto1: "relaxed-simd-fma", auto2: "relaxed-simd-fma", off: "simd128" });
    expect(r.forced).toBe("loaded");
    // a module given as wasm runs as what it is; an fma option that contradicts it is refused
    expect(r.given.plain).toBe("simd128");
    expect(r.given.fused).toBe("relaxed-simd-fma");
    expect(r.given.plainAsFma).toMatch(/^ArgumentError: .*fma: true was asked for, but .* is the plain \(kernels\.wasm\) build/);
    expect(r.given.fusedAsPlain).toMatch(/^ArgumentError: .*fma: false was asked for, but .* is the fused \(kernels-fma\.wasm\) build/);
    // each product within k·2⁻²³·Σ|a·b| of float64, and the two kernels within twice that of each other
    for (const worst of Object.values(r.errors)) expect(worst).toBeLessThanOrEqual(1);
    expect(r.fmaVsPlain).toBeLessThanOrEqual(1);
    expect(r.threadsDiffer).toBeUndefined();
    // the multiply-adds really fuse (every x86-64 with FMA3 and every arm64): the witness keeps its last bit,
    // the plain kernel rounds it away, and most products of the random cases differ in their last bits
    expect(r.witness.auto1).toBe(r.witness.exact);
    expect(r.witness.auto2).toBe(r.witness.exact);
    expect(r.witness.off).toBe(2 ** -11);
    expect(r.differing).toBeGreaterThan(r.values / 4);
  });

  it("is the plain SIMD128 kernel without the flag, and fma: true says why it cannot load", () => {
    const r = check([]);
    expect(r.relaxedSimd).toBe(false);
    expect(r.chosen).toEqual({ auto1: "simd128", auto2: "simd128", off: "simd128" });
    expect(r.forced).toMatch(/^ArgumentError: .*fma: true needs WebAssembly relaxed SIMD.*--experimental-wasm-relaxed-simd.*fma: "auto"/);
    expect(r.given.plain).toBe("simd128");
    expect(r.given.fused).toMatch(/^ArgumentError: .*needs WebAssembly relaxed SIMD.*load kernels\.wasm instead of kernels-fma\.wasm/);
    for (const worst of Object.values(r.errors)) expect(worst).toBeLessThanOrEqual(1);
    expect(r.witness.auto1).toBe(2 ** -11);
    expect(r.differing).toBe(0);
  });
});
