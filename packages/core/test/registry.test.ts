/** Plugin registries: duplicates, replace, unknown-name messages with install hints, atomic batches, use(). */
import { describe, expect, test } from "vitest";
import {
  type BackendPlugin, type LayerSpec, type PluginIdentity, Registry, RegistryError, activations, defineActivation, defineFamily,
  getBackend, layers, listBackends, memory, removeBackend, sequential, setBackend, use,
} from "../src/index.js";

interface Thing extends PluginIdentity {
  readonly size: number;
}
const thing = (name: string, pkg = "pkg-a", size = 1): Thing => ({ name, package: pkg, version: "1.0.0", size });

describe("Registry", () => {
  test("register, get, has, names (sorted), list, unregister", () => {
    const r = new Registry<Thing>("thing");
    r.register([thing("b"), thing("a")]);
    r.register(thing("c"));
    expect(r.names()).toEqual(["a", "b", "c"]);
    expect(r.list().map((t) => t.name)).toEqual(["a", "b", "c"]);
    expect(r.has("b")).toBe(true);
    expect(r.get("b").name).toBe("b");
    expect(r.unregister("b")).toBe(true);
    expect(r.unregister("b")).toBe(false);
    expect(r.has("b")).toBe(false);
  });

  test("a second plugin under a taken name is an error naming both packages and the fix", () => {
    const r = new Registry<Thing>("thing");
    const first = thing("x", "pkg-a");
    r.register(first);
    expect(() => r.register(thing("x", "pkg-b"))).toThrow(RegistryError);
    expect(() => r.register(thing("x", "pkg-b"))).toThrow('thing "x" is already registered (from pkg-a); pass { replace: true } to replace it with the one from pkg-b');
    expect(r.get("x")).toBe(first);
    // the same object again is harmless
    r.register(first);
    const second = thing("x", "pkg-b", 2);
    r.register(second, { replace: true });
    expect(r.get("x")).toBe(second);
  });

  test("a batch is all or nothing", () => {
    const r = new Registry<Thing>("thing", {}, (p) => {
      if (p.size < 0) throw new RegistryError(`thing "${p.name}" has a negative size`);
    });
    r.register(thing("keep"));
    expect(() => r.register([thing("new1"), thing("bad", "p", -1), thing("new2")])).toThrow(/negative size/);
    expect(() => r.register([thing("new1"), thing("keep", "other")])).toThrow(/already registered/);
    expect(() => r.register([thing("twice"), thing("twice")])).toThrow('cannot register thing "twice" twice in one call');
    expect(() => r.register([thing("ok"), { ...thing("x"), name: "" }])).toThrow('cannot register thing: it has no name (got "")');
    expect(r.names()).toEqual(["keep"]);
  });

  test("an unknown name lists what is registered, and names the package that provides it when known", () => {
    const r = new Registry<Thing>("widget", { fancy: "@acme/widgets" });
    expect(() => r.get("fancy")).toThrow('unknown widget "fancy" (no widget is registered); "fancy" is provided by @acme/widgets: install it and register it with use(...)');
    r.register([thing("zeta"), thing("alpha")]);
    expect(() => r.get("nope")).toThrow('unknown widget "nope" (registered widgets: alpha, zeta); register a plugin that provides it with use(...)');
    expect(() => r.get("fancy")).toThrow(/registered widgets: alpha, zeta\); "fancy" is provided by @acme\/widgets/);
    expect(r.unknownMessage("other", "@acme/other")).toContain('"other" is provided by @acme/other');
  });

  test("snapshot and restore", () => {
    const r = new Registry<Thing>("thing");
    r.register(thing("a"));
    const s = r.snapshot();
    r.register(thing("b"));
    r.unregister("a");
    r.restore(s);
    expect(r.names()).toEqual(["a"]);
  });
});

describe("the core's registries", () => {
  test("activations know which package provides each first-party name", () => {
    expect(activations.names()).toContain("linear");
    expect(() => activations.get("elu")).toThrow(/unknown activation "elu" \(registered activations: .*linear.*\); "elu" is provided by @neurite\/activations-relu/);
    expect(() => activations.get("gelu")).toThrow(/@neurite\/activations-smooth/);
    expect(() => activations.get("softmax")).toThrow(/@neurite\/activations-softmax/);
    expect(() => activations.get("hardSigmoid")).toThrow(/@neurite\/activations-sigmoid/);
    expect(() => activations.get("myOwn")).toThrow(/register a plugin that provides it with use/);
  });

  test("built-in layers are registered", () => {
    for (const name of ["dense", "activation", "dropout", "flatten", "layerNormalization"]) expect(layers.has(name), name).toBe(true);
  });

  test("layers know which package provides each first-party name outside the core", () => {
    expect(() => layers.get("conv2d")).toThrow(/unknown layer "conv2d" .*"conv2d" is provided by @neurite\/layers-conv/);
    // a config read from JSON (TypeScript would refuse the name before run time)
    const config = JSON.parse('[{ "type": "batchNormalization", "inputShape": [4, 4, 2] }]') as LayerSpec[];
    expect(() => sequential(config)).toThrow(/@neurite\/layers-conv/);
    expect(() => layers.get("myLayer")).toThrow(/register a plugin that provides it with use/);
  });
});

describe("use() and the backend registry (no backend is ever created here)", () => {
  const fakeBackend = (name: string, pkg = "@test/fake"): BackendPlugin => ({
    kind: "backend", name, package: pkg, version: "0.0.0",
    create: () => {
      throw new Error("this test never creates a backend");
    },
  });
  const act = (name: string, pkg = "@test/acts") =>
    defineActivation({
      name, family: "test", package: pkg, version: "0.0.0", description: "x", params: {},
      meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true }, formula: (x) => x,
    });

  test("use registers plugins of every kind; a failure anywhere registers none of them", () => {
    const backendsBefore = listBackends();
    const activationsBefore = activations.names();
    const layersBefore = layers.names();
    // the duplicate is the last item, after a backend and a family
    expect(() => use(fakeBackend("fake-a"), defineFamily({ name: "fam", package: "@test/acts", version: "0.0.0", activations: [act("t1"), act("t2")] }), act("linear"))).toThrow(
      /activation "linear" is already registered \(from @neurite\/core\)/,
    );
    expect(listBackends()).toEqual(backendsBefore);
    expect(activations.names()).toEqual(activationsBefore);
    expect(layers.names()).toEqual(layersBefore);
    // an invalid activation (a name that is not an identifier) also leaves everything intact
    expect(() => use(fakeBackend("fake-b"), act("not an identifier"))).toThrow(/must be an identifier/);
    expect(listBackends()).toEqual(backendsBefore);

    use(fakeBackend("fake-a"), act("t1"));
    expect(listBackends()).toContain("fake-a");
    expect(activations.has("t1")).toBe(true);
    // options ride along in the same call
    use(fakeBackend("fake-a", "@test/other"), { replace: true });
    removeBackend("fake-a");
    activations.unregister("t1");
  });

  test("use rejects things that are not plugins", () => {
    expect(() => use({ kind: "backend-ish" } as never)).toThrow('use: not a Neurite plugin (kind "backend-ish")');
  });

  test("with no backend: errors say what to install and call; setBackend of an unknown name lists the registered ones", async () => {
    expect(() => getBackend()).toThrow(/no backend is registered: install @neurite\/backend-cpu \(or @neurite\/backend-wasm\), then call use\(cpuBackend\) and await setBackend\("cpu"\)/);
    expect(memory()).toEqual({ tensors: 0, bytes: 0 });
    await expect(setBackend("cpu")).rejects.toThrow('unknown backend "cpu" (no backend is registered); "cpu" is provided by @neurite/backend-cpu: install it and register it with use(...)');
    use(fakeBackend("fake-c"));
    await expect(setBackend("tpu")).rejects.toThrow('unknown backend "tpu" (registered backends: fake-c); register a plugin that provides it with use(...)');
    expect(() => getBackend()).toThrow('no backend is active (registered: fake-c): call await setBackend("fake-c") first');
    // a plugin whose create() throws leaves no half-made instance behind
    await expect(setBackend("fake-c")).rejects.toThrow("this test never creates a backend");
    expect(() => getBackend()).toThrow(/no backend is active/);
    removeBackend("fake-c");
    expect(listBackends()).toEqual([]);
  });
});
