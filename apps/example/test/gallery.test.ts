import { activations, defineActivation, scalarActivation } from "@neurite/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TourContext } from "../src/context.js";
import { curvesOf, runGallery } from "../src/parts/gallery.js";
import { ProgressReporter } from "../src/progress.js";
import { registerPlugins } from "../src/setup.js";

/** A sink for the part's progress lines. */
const quiet = { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream;
const ctx: TourContext = { seed: 1, quick: true, backend: "cpu", progress: new ProgressReporter(quiet, false), runs: [] };

/** A user's activation the app has never heard of: x·tanh(x) ("tanhExp"-like), with an unusual family. */
const newcomer = defineActivation({
  name: "xTanhX", family: "galleryTest", package: "gallery-test", version: "0.0.0",
  description: "x·tanh(x)", params: {},
  meta: { range: [0, Infinity], monotonic: false, smoothAtZero: true },
  formula: (x) => x.mul(x.tanh()),
});

describe("the gallery", () => {
  beforeAll(() => {
    registerPlugins();
    activations.register(newcomer);
  });
  afterAll(() => {
    activations.unregister(newcomer.name);
  });

  it("draws a newly registered activation without any change to the app", () => {
    const part = runGallery(ctx);
    const plotted = part.findings.plotted as string[];
    expect(plotted).toEqual(activations.names());
    expect(plotted).toContain("xTanhX");
    const fig = part.figures.find((f) => f.id === "gallery-galleryTest");
    expect(fig?.caption).toContain("xTanhX");
    expect(JSON.stringify(fig?.spec)).toContain('"xTanhX"');
  });

  it("samples f and f′ over [−6, 6] from the declaration: sigmoid's σ′ = σ(1 − σ), tanh′ = 1 − tanh²", () => {
    const sig = curvesOf(activations.get("sigmoid"));
    expect(sig.xs[0]).toBe(-6);
    expect(sig.xs[sig.xs.length - 1]).toBe(6);
    sig.xs.forEach((x, i) => {
      const s = 1 / (1 + Math.exp(-x));
      expect(sig.f[i]).toBeCloseTo(s, 12);
      expect(sig.df[i]).toBeCloseTo(s * (1 - s), 12);
    });
    const th = curvesOf(activations.get("tanh"));
    th.xs.forEach((x, i) => {
      expect(th.f[i]).toBeCloseTo(2 / (1 + Math.exp(-2 * x)) - 1, 12);
      expect(th.df[i]).toBeCloseTo(1 - Math.tanh(x) ** 2, 12);
    });
  });

  it("checks each derivative against central differences", () => {
    const c = curvesOf(newcomer);
    expect(c.derivativeCheck).toBeLessThan(1e-7);
    const s = scalarActivation(newcomer);
    expect(s.df(1)).toBeCloseTo(Math.tanh(1) + 1 * (1 - Math.tanh(1) ** 2), 12);
  });

  it("draws softmax on a small example: the first output of softmax([x, 0, −1]) and its slope", () => {
    const c = curvesOf(activations.get("softmax"));
    expect(c.kind).toBe("axis");
    c.xs.forEach((x, i) => {
      const p0 = Math.exp(x) / (Math.exp(x) + 1 + Math.exp(-1));
      expect(c.f[i]).toBeCloseTo(p0, 12);
      // ∂p₀/∂x₀ = p₀(1 − p₀)
      expect(c.df[i]).toBeCloseTo(p0 * (1 - p0), 6);
    });
  });
});
