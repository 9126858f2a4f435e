import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STACK_FRAME, cli } from "./helpers.js";

/** Every registered name the app should know: the four families, the core's identity and the app's plugin. */
const SOME_REGISTERED = ["sigmoid", "tanh", "relu", "leakyRelu", "elu", "gelu", "softmax", "linear", "bentIdentity"];

describe("CLI usage errors: a clear message, exit status 2, no stack trace", () => {
  it("rejects an unknown option", async () => {
    const r = await cli(["--bogus"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain("--help");
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it("rejects an unknown command and suggests the near one", async () => {
    const r = await cli(["shootot"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "shootot"');
    expect(r.stderr).toContain("Did you mean shootout?");
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it("rejects a misspelled activation and lists every registered one", async () => {
    const r = await cli(["train", "--activation", "eluu", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Unknown activation "eluu"');
    for (const name of SOME_REGISTERED) expect(r.stderr).toMatch(new RegExp(`[ ,]${name}[,.]`));
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout).toBe("");
  });

  it.each([
    [["train", "--epochs", "0"], "--epochs", "positive integer"],
    [["train", "--epochs", "2.5"], "--epochs", "positive integer"],
    [["train", "--lr", "abc"], "--lr", "learning rate must be a number"],
    [["train", "--lr", "-0.1"], "--lr", "learning rate must be a number"],
    [["train", "--backend", "tpu"], "--backend", "Allowed choices are cpu, wasm"],
    [["train", "--dataset", "mnist"], "--dataset", "Allowed choices are spirals, xor, iris"],
    [["train", "--hidden", "8,x"], "--hidden", "positive integers separated by commas"],
    [["tour", "--seed", "-3"], "--seed", "non-negative integer"],
    [["gallery", "--seed", "x"], "--seed", "non-negative integer"],
  ])("rejects %j naming %s", async (args, option, why) => {
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(option);
    expect(r.stderr).toContain(why);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});

describe("CLI help", () => {
  it("--help lists every command and exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.status).toBe(0);
    for (const c of ["tour", "nonlinearity", "gallery", "shootout", "vanishing", "dead-relus", "softmax", "train", "activations"]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, "m"));
    }
  });

  it("train --help explains every option", async () => {
    const r = await cli(["train", "--help"]);
    expect(r.status).toBe(0);
    for (const o of ["--activation", "--dataset", "--epochs", "--lr", "--seed", "--backend", "--out", "--hidden", "--batch-size"]) {
      expect(r.stdout).toContain(o);
    }
    expect(r.stdout).toContain('choices: "cpu", "wasm"');
  });

  it("the tour's commands explain --quick, --out, --seed and --backend", async () => {
    const r = await cli(["tour", "--help"]);
    expect(r.status).toBe(0);
    for (const o of ["--quick", "--out", "--seed", "--backend"]) expect(r.stdout).toContain(o);
  });

  it("`activations` lists the registry, the app's plugin included", async () => {
    const r = await cli(["activations"]);
    expect(r.status).toBe(0);
    const names = r.stdout.split("\n").map((l) => l.split(/\s+/)[0]).filter(Boolean);
    for (const name of SOME_REGISTERED) expect(names).toContain(name);
    expect(r.stdout).toMatch(/bentIdentity\s+example\s/);
    expect(r.stdout).toMatch(/elu\s+@neurite\/activations-relu\s/);
  });
});

describe("--backend wasm", () => {
  it("trains on the wasm backend", async () => {
    const out = await mkdtemp(join(tmpdir(), "neurite-example-wasm-"));
    try {
      const r = await cli(["train", "--backend", "wasm", "--dataset", "xor", "--epochs", "2", "--hidden", "4", "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("on the wasm backend");
      const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8")) as { backend: string };
      expect(summary.backend).toBe("wasm");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
