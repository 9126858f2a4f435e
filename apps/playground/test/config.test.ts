import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { activations, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type PlaygroundConfig, decodeConfig, encodeConfig } from "../src/config.js";
import { checkFormula } from "../src/plot.js";
import { PRESETS } from "../src/presets.js";

beforeAll(() => use(reluFamily, sigmoidFamily));

const options = { isActivation: (n: string) => activations.has(n), formulaError: (t: string) => checkFormula(t)?.message };

describe("the URL holds the whole configuration", () => {
  const custom: PlaygroundConfig = {
    ...DEFAULT_CONFIG,
    dataset: "xor",
    samples: 250,
    noise: 0.35,
    trainFraction: 0.7,
    layers: [
      { units: 3, activation: "leakyRelu", params: { alpha: 0.3 }, formula: "" },
      { units: 32, activation: "formula", params: {}, formula: "x * sigmoid(1.702 * x) + where(x > 1, 0.5, -x^2)" },
      { units: 1, activation: "hardTanh", params: { minVal: -2, maxVal: 0.5 }, formula: "" },
    ],
    output: "softmax",
    optimizer: "momentum",
    lr: 0.0123,
    batchSize: 7,
    l2: 0.001,
    seed: 123456789,
    threads: 1,
    edits: { added: [{ x: 1.25, y: -3.5, label: 1 }, { x: -6, y: 6, label: 0 }], removed: [3, 17, 250] },
  };

  const cases: [string, PlaygroundConfig][] = [["default", DEFAULT_CONFIG], ["custom", custom], ...PRESETS.map((p): [string, PlaygroundConfig] => [p.id, p.config])];
  it.each(cases)("round-trips the %s configuration", (_, config) => {
    const decoded = decodeConfig(encodeConfig(config), options);
    expect(decoded.problems).toEqual([]);
    expect(decoded.config).toEqual(config);
    // and the text is stable: encoding the decoded configuration gives the same URL
    expect(encodeConfig(decoded.config)).toBe(encodeConfig(config));
  });

  it("an empty query is the default configuration", () => {
    expect(decodeConfig("", options)).toEqual({ config: DEFAULT_CONFIG, problems: [] });
  });

  it("reports each value it cannot use and takes the default for it", () => {
    const q = "data=moons&n=12.5&noise=NaN&train=2&lr=-1&batch=0&seed=x&opt=lbfgs&out=tanh&threads=99&add=[[1,2]]&rm=1,-2";
    const { config, problems } = decodeConfig(q, options);
    expect(config).toEqual(DEFAULT_CONFIG);
    for (const key of ["data=moons", "n=12.5", "noise=NaN", "train=2", "lr=-1", "batch=0", "seed=x", "opt=lbfgs", "out=tanh", "threads=99", "add=", "rm="]) {
      expect(problems.some((p) => p.startsWith(key)), key).toBe(true);
    }
    expect(problems).toHaveLength(12);
  });

  it("falls back per layer: an unregistered activation, a formula that does not parse, bad units or parameters", () => {
    const layers = JSON.stringify([[8, "mystery"], [4, "=x * (1 +"], [99, "relu"], [5, "leakyRelu", [1]], [6, "leakyRelu", { alpha: 0.5 }]]);
    const { config, problems } = decodeConfig(`layers=${encodeURIComponent(layers)}`, options);
    expect(config.layers.map((l) => [l.units, l.activation, l.params])).toEqual([[8, "relu", {}], [4, "relu", {}], [8, "relu", {}], [5, "leakyRelu", {}], [6, "leakyRelu", { alpha: 0.5 }]]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toContain('"mystery" is not registered');
    expect(problems[1]).toContain("does not parse");
  });

  it("refuses a layer list beyond the limits", () => {
    const eleven = JSON.stringify(Array.from({ length: 11 }, () => [2, "relu"]));
    const { config, problems } = decodeConfig(`layers=${encodeURIComponent(eleven)}`, options);
    expect(config.layers).toEqual(DEFAULT_CONFIG.layers);
    expect(problems[0]).toContain("1 to 10 layers");
  });
});
