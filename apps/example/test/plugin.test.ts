import { activations, applyActivation, grad, resolveActivation, scalarActivation, tensor } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { bentIdentity, bentIdentityReference } from "../src/plugin/bent-identity.js";
import { setup } from "../src/setup.js";

/** f′ of bent identity, written by hand: 1 + x / (2√(x² + 1)). */
const dReference = (x: number): number => 1 + x / (2 * Math.sqrt(x * x + 1));

const xs = [-1e6, -3e4, -20, -6, -2.5, -1, -0.3, -1e-4, 0, 1e-4, 0.3, 1, 2.5, 6, 20, 3e4, 1e6];

describe("bentIdentity, the app's own activation", () => {
  beforeAll(async () => {
    await setup("cpu");
  });

  it("is registered by setup, next to the four families", () => {
    expect(activations.get("bentIdentity")).toBe(bentIdentity);
    for (const name of ["sigmoid", "relu", "softmax", "gelu"]) expect(activations.has(name)).toBe(true);
  });

  it("f in float64 matches the direct formula (relative 1e-12, and exactly near 0)", () => {
    const s = scalarActivation("bentIdentity");
    for (const x of xs) {
      const want = bentIdentityReference(x);
      expect(Math.abs(s.f(x) - want), `x = ${x}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
    }
    // near 0, f(x) − x = x²/4 − x⁴/16 + …; the textbook (√(x²+1) − 1)/2 loses about 1e-6 of it to cancellation
    for (const x of [1e-5, -3e-4, 1e-3]) {
      const bend = x * x / 4 - x ** 4 / 16;
      expect(Math.abs(s.f(x) - x - bend) / bend, `x = ${x}`).toBeLessThan(1e-9);
    }
  });

  it("the derived f′ matches the hand-written derivative", () => {
    const s = scalarActivation(bentIdentity);
    for (const x of xs) expect(Math.abs(s.df(x) - dReference(x)), `x = ${x}`).toBeLessThan(1e-9);
  });

  it("f′ stays within (0.5, 1.5): it neither saturates nor dies", () => {
    const s = scalarActivation(bentIdentity);
    for (let x = -50; x <= 50; x += 0.5) {
      expect(s.df(x)).toBeGreaterThan(0.5);
      expect(s.df(x)).toBeLessThan(1.5);
    }
  });

  it("runs as a float32 tensor op on the cpu backend, its gradient included, finite for huge inputs", () => {
    const input = [...xs, 1e30, -1e30];
    const y = applyActivation(tensor(input), resolveActivation("bentIdentity")).dataSync();
    input.forEach((x, i) => {
      const want = bentIdentityReference(x);
      expect(Number.isFinite(y[i]!), `f(${x})`).toBe(true);
      expect(Math.abs(y[i]! - want), `f(${x})`).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(want)));
    });
    const [g] = grad((t) => applyActivation(t, resolveActivation("bentIdentity")).sum())(tensor(input));
    const gs = g!.dataSync();
    input.forEach((x, i) => expect(Math.abs(gs[i]! - dReference(x)), `f′(${x})`).toBeLessThan(1e-6));
  });

  it("fails with the registered names when a model asks for a misspelled activation", () => {
    expect(() => resolveActivation("bentIdentty")).toThrow(/unknown activation "bentIdentty".*bentIdentity/);
  });
});
