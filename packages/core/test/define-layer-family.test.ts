/** defineLayerFamily gives each member the family's package and version, as defineFamily does for activations. */
import { afterEach, expect, test } from "vitest";
import { CORE_VERSION, RegistryError, dense, defineLayer, defineLayerFamily, layers, use } from "../src/index.js";

const FAMILY = { name: "test-layers", package: "@test/layers", version: "3.1.4" } as const;

/** An identity layer with the given name and extra fields: it states no identity unless told to. */
function member(name: string, extra: Record<string, unknown> = {}) {
  return defineLayer<{ readonly inputShape?: readonly number[] }>({
    name, description: "y = x",
    configure: () => ({}),
    build: (_config, inputShape) => ({ outputShape: inputShape, call: (x) => x }),
    ...extra,
  });
}

const registered: string[] = [];
afterEach(() => {
  for (const name of registered.splice(0)) layers.unregister(name);
});

test("each member gets the family's package and version, written into the member itself", () => {
  const a = member("familyLayerA");
  const b = member("familyLayerB");
  use(defineLayerFamily({ ...FAMILY, layers: [a, b] }));
  registered.push("familyLayerA", "familyLayerB");
  for (const layer of [a, b, layers.get("familyLayerB")]) expect([layer.package, layer.version]).toEqual(["@test/layers", "3.1.4"]);
});

test("a member stating another package or version is refused, naming both, and no member is changed", () => {
  const quiet = member("familyLayerQuiet");
  const other = member("familyLayerOther", { version: "9.9.9" });
  expect(() => defineLayerFamily({ ...FAMILY, layers: [quiet, other] })).toThrow(RegistryError);
  expect(() => defineLayerFamily({ ...FAMILY, layers: [quiet, other] })).toThrow(/layer "familyLayerOther" states version "9.9.9", but its family "test-layers" has version "3.1.4"/);
  expect(Object.hasOwn(quiet, "package")).toBe(false);
});

test("a standalone layer without a package is refused at registration, naming the fix", () => {
  expect(() => use(member("lonelyLayer"))).toThrow(/layer "lonelyLayer": package must be a non-empty string, got undefined; state it in defineLayer, or define the layer in a family with defineLayerFamily/);
  expect(layers.has("lonelyLayer")).toBe(false);
});

test("the core's own layers get the core's package and version from their family", () => {
  expect([dense.package, dense.version]).toEqual(["@neurite/core", CORE_VERSION]);
});
