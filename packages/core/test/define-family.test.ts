/** defineFamily gives each member the family's identity, so a member states only what is its own. */
import { afterEach, expect, expectTypeOf, test } from "vitest";
import {
  type ParamsOf, RegistryError, activations, bindActivation, defineActivation, defineFamily, serializeActivation, use,
} from "../src/index.js";

const FAMILY = { name: "scaled", package: "@test/scaled-acts", version: "2.3.4" } as const;

/** k·x with the given name and any extra fields: a member that states no identity unless told to. */
function member(name: string, extra: Record<string, unknown> = {}) {
  return defineActivation<{ k: number }>({
    name, description: "k·x", params: { k: { default: 2 } },
    meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
    formula: (x, p) => x.mul(p.k),
    ...extra,
  });
}

const registered: string[] = [];
afterEach(() => {
  for (const name of registered.splice(0)) activations.unregister(name);
});

test("each member gets the family's name, package and version, and saves with them when used alone", () => {
  const scaledA = member("scaledFamilyA");
  const scaledB = member("scaledFamilyB");
  const family = defineFamily({ ...FAMILY, activations: [scaledA, scaledB] });
  for (const act of [scaledA, scaledB]) {
    expect({ family: act.family, package: act.package, version: act.version }).toEqual({ family: "scaled", package: "@test/scaled-acts", version: "2.3.4" });
    // the exported member itself, not only the family's list, is what a model file records
    expect(serializeActivation(bindActivation(act, { k: 3 }))).toEqual({ package: "@test/scaled-acts", name: act.name, version: "2.3.4", params: { k: 3 } });
  }
  expect(family.activations).toEqual([scaledA, scaledB]);
  use(family);
  registered.push("scaledFamilyA", "scaledFamilyB");
  expect(activations.get("scaledFamilyB").package).toBe("@test/scaled-acts");
});

test("a member may state its package and version when they agree with the family's, and keeps its own family label", () => {
  const stated = member("scaledFamilyStated", { family: "custom", package: "@test/scaled-acts", version: "2.3.4" });
  expect(() => defineFamily({ ...FAMILY, activations: [stated] })).not.toThrow();
  expect([stated.family, stated.package, stated.version]).toEqual(["custom", "@test/scaled-acts", "2.3.4"]);
});

test("a member stating another package or version is refused, naming both, and no member is changed", () => {
  for (const [key, value] of [["package", "@other/acts"], ["version", "1.0.0"]] as const) {
    const first = member("scaledFamilyFirst");
    const conflicting = member("scaledFamilyConflict", { [key]: value });
    const ownValue = FAMILY[key];
    let error: unknown;
    try {
      defineFamily({ ...FAMILY, activations: [first, conflicting] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    const message = (error as Error).message;
    for (const part of ['activation "scaledFamilyConflict"', `${key} ${JSON.stringify(value)}`, `${key} ${JSON.stringify(ownValue)}`]) expect(message).toContain(part);
    // the refusal came before any member was written: the first one is still without identity
    expect(Object.hasOwn(first, "package") || Object.hasOwn(first, "family") || Object.hasOwn(first, "version")).toBe(false);
    expect(conflicting[key]).toBe(value);
  }
});

test("a frozen member that leaves out its identity is refused with the fix, not a TypeError", () => {
  const frozen = Object.freeze(member("scaledFamilyFrozen"));
  expect(() => defineFamily({ ...FAMILY, activations: [frozen] })).toThrow(RegistryError);
  expect(() => defineFamily({ ...FAMILY, activations: [frozen] })).toThrow(/activation "scaledFamilyFrozen" leaves out family .*frozen.*state family: "scaled"/);
});

test("a member never listed in a family is refused at registration, naming the missing field and defineFamily", () => {
  const orphan = member("scaledFamilyOrphan");
  expect(() => use(orphan)).toThrow(RegistryError);
  expect(() => use(orphan)).toThrow(/activation "scaledFamilyOrphan": package must be a non-empty string, got undefined; .*defineFamily fills family, package and version/);
  expect(activations.has("scaledFamilyOrphan")).toBe(false);
});

test("ParamsOf still reads a member's parameter types", () => {
  expectTypeOf<ParamsOf<ReturnType<typeof member>>>().toEqualTypeOf<{ k: number }>();
  const inferred = defineActivation({
    name: "scaledFamilyInferred", description: "k·x", params: { k: { default: 1 }, mode: { default: "a", choices: ["a", "b"] } },
    meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
    formula: (x, p) => x.mul(p.k),
  });
  expectTypeOf<ParamsOf<typeof inferred>>().toEqualTypeOf<{ k: number; mode: "a" | "b" }>();
  defineFamily({ ...FAMILY, activations: [inferred] });
  expect(bindActivation(inferred).params).toEqual({ k: 1, mode: "a" });
});
