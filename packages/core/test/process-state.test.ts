/** The compatibility rule between two copies of the core loaded in one process (see src/shared.ts). */
import { expect, test } from "vitest";
import { SHARED_STATE_LAYOUT, compatibleCopies, loadedCoreCopies, sharedState } from "../src/process-state.js";

const copy = (version: string, layout = SHARED_STATE_LAYOUT) => ({ version, location: "/x", layout });

test("copies share state when npm's caret rule accepts each as the other", () => {
  const cases: [string, string, boolean][] = [
    ["1.2.3", "1.2.3", true], ["1.2.3", "1.9.0", true], ["1.2.3", "2.0.0", false],
    ["0.1.0", "0.1.9", true], ["0.1.0", "0.2.0", false], ["0.0.3", "0.0.4", false],
    ["1.0.0-beta.1", "1.0.0-beta.2", false], ["1.0.0-beta.1", "1.0.0-beta.1", true], ["1.0.0+a", "1.0.1+b", true],
    ["not-semver", "not-semver", true], ["not-semver", "1.0.0", false],
  ];
  for (const [a, b, expected] of cases) {
    expect([a, b, compatibleCopies(copy(a), copy(b))]).toEqual([a, b, expected]);
    expect([b, a, compatibleCopies(copy(b), copy(a))]).toEqual([b, a, expected]);
  }
});

test("copies with different shared-state layouts never share, whatever their versions", () => {
  expect(compatibleCopies(copy("1.0.0", 1), copy("1.0.0", 2))).toBe(false);
});

test("shared state is created once and stored under a Symbol.for key, out of reach of enumeration and assignment", () => {
  const name = `test-state-${Math.random()}`;
  const first = sharedState(name, () => ({ n: 1 }));
  expect(sharedState(name, () => ({ n: 2 }))).toBe(first);
  const key = Symbol.for(`@neurite/core/${name}`);
  expect((globalThis as Record<symbol, unknown>)[key]).toBe(first);
  expect(Object.getOwnPropertySymbols(globalThis).includes(key)).toBe(true);
  expect(Object.keys(globalThis)).not.toContain(String(key));
  expect(() => { (globalThis as Record<symbol, unknown>)[key] = {}; }).toThrow(TypeError);
  expect(loadedCoreCopies().length).toBeGreaterThanOrEqual(1);
});

test("instanceof: the error classes keep native semantics for a user's subclass without a brand", async () => {
  const { ArgumentError, FormulaError, NeuriteError, RegistryError } = await import("../src/index.js");
  class MyError extends RegistryError {}
  const mine = new MyError("m");
  expect([mine instanceof MyError, mine instanceof RegistryError, mine instanceof NeuriteError, mine instanceof Error]).toEqual([true, true, true, true]);
  expect([new RegistryError("r") instanceof MyError, new ArgumentError("a") instanceof RegistryError]).toEqual([false, false]);
  const formula = new FormulaError("f", "x+", 2, 1);
  expect([formula instanceof FormulaError, formula instanceof ArgumentError, formula instanceof RegistryError]).toEqual([true, true, false]);
  // an object shaped like an error is not one
  expect(Object.assign(Object.create(null) as object, { name: "RegistryError", message: "x" }) instanceof RegistryError).toBe(false);
});
