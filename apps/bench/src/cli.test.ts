import { describe, expect, it } from "vitest";
import { parseCli } from "./cli.js";
import { SUITES } from "./protocol.js";

describe("parseCli", () => {
  it("defaults to the full run of every suite on every backend", () => {
    const o = parseCli([]);
    expect(o).toMatchObject({ quick: false, json: undefined, wasmThreads: 1, rounds: 1 });
    if (o === "help") throw new Error("unexpected help");
    expect(o.suites).toEqual([...SUITES]);
    expect(o.jobs.map((j) => `${j.library}-${j.backend}`)).toEqual(["neurite-cpu", "tfjs-cpu", "neurite-wasm", "tfjs-wasm"]);
  });
  it("reads --quick, --json FILE and --rounds N", () => {
    expect(parseCli(["--quick", "--json", "out.json", "--rounds", "3"])).toMatchObject({ quick: true, json: "out.json", rounds: 3 });
  });
  it("--only picks suites and --backends picks backends, libraries or single jobs", () => {
    const o = parseCli(["--only", "matmul,train", "--backends", "wasm"]);
    if (o === "help") throw new Error("unexpected help");
    expect(o.suites).toEqual(["matmul", "train"]);
    expect(o.jobs.map((j) => `${j.library}-${j.backend}`)).toEqual(["neurite-wasm", "tfjs-wasm"]);
    const t = parseCli(["--backends", "tfjs,neurite-cpu"]);
    if (t === "help") throw new Error("unexpected help");
    expect(t.jobs.map((j) => `${j.library}-${j.backend}`)).toEqual(["neurite-cpu", "tfjs-cpu", "tfjs-wasm"]);
  });
  it("names the bad value and the valid ones", () => {
    expect(() => parseCli(["--only", "matmull"])).toThrow(/unknown suite "matmull"; use any of limit, /);
    expect(() => parseCli(["--backends", "webgpu"])).toThrow(/unknown "webgpu"/);
    expect(() => parseCli(["--wasm-threads", "0"])).toThrow(/positive integer, got 0/);
    expect(() => parseCli(["--rounds", "1.5"])).toThrow(/--rounds must be a positive integer, got 1.5/);
    expect(() => parseCli(["--fast"])).toThrow(/--fast/);
  });
  it("--help asks for the usage", () => {
    expect(parseCli(["--help"])).toBe("help");
  });
});
