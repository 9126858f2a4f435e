/** The backend registry with real backend plugins: listing, unknown names, duplicates, atomic use(), kernels. */
import {
  type ActivationPlugin, type BackendPlugin, OPTIONAL_KERNELS, REQUIRED_KERNELS, RegistryError, activations,
  backendInstance, backendKernels, getBackend, listBackends, removeBackend, setBackend, tensor, use,
} from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { expect, test } from "vitest";
import { BACKENDS, forEachBackend, registerBackends } from "../src/backends.js";

registerBackends();

test("every first-party backend is registered", () => {
  expect(BACKENDS).toEqual(["cpu", "wasm"]);
  expect(listBackends()).toEqual([...BACKENDS].sort());
});

test("an unknown backend name lists the registered ones", async () => {
  await expect(setBackend("gpu")).rejects.toThrow(RegistryError);
  await expect(setBackend("gpu")).rejects.toThrow(`unknown backend "gpu" (registered backends: ${listBackends().join(", ")}); register a plugin that provides it with use(...)`);
});

test("registering another plugin under a taken name fails unless { replace: true }", async () => {
  await setBackend("cpu");
  const impostor: BackendPlugin = { ...cpuBackend, package: "@someone/fake-cpu" };
  expect(() => use(impostor)).toThrow(RegistryError);
  expect(() => use(impostor)).toThrow('backend "cpu" is already registered (from @neurite/backend-cpu); pass { replace: true } to replace it with the one from @someone/fake-cpu');
  // the same plugin object again is not a duplicate
  expect(() => use(cpuBackend)).not.toThrow();
  use(impostor, { replace: true });
  use(cpuBackend, { replace: true });
  expect(listBackends()).toContain("cpu");
  await setBackend("cpu");
  expect(tensor([1]).item()).toBe(1);
});

test("a failed multi-plugin use() leaves every registry as it was", () => {
  const extra: BackendPlugin = { ...cpuBackend, name: "cpu-extra" };
  const dupActivation = { ...activations.get("linear"), package: "@someone/linear" } as ActivationPlugin;
  const backendsBefore = listBackends();
  const activationsBefore = activations.names();
  expect(() => use(extra, dupActivation)).toThrow(/activation "linear" is already registered/);
  expect(listBackends()).toEqual(backendsBefore);
  expect(activations.names()).toEqual(activationsBefore);
  expect(activations.get("linear").package).toBe("@neurite/core");
  // two plugins of one name in one call
  expect(() => use(extra, { ...extra })).toThrow(/cannot register backend "cpu-extra" twice in one call/);
  expect(listBackends()).toEqual(backendsBefore);
  expect(() => use({ kind: "nonsense" } as never)).toThrow(/not a Neurite plugin \(kind "nonsense"\)/);
});

test("removeBackend unregisters and releases; the name can be registered again", async () => {
  await setBackend("cpu");
  const extra: BackendPlugin = { ...cpuBackend, name: "cpu-removable" };
  use(extra);
  await setBackend("cpu-removable");
  removeBackend("cpu-removable");
  expect(listBackends()).not.toContain("cpu-removable");
  expect(() => getBackend()).toThrow(/no backend is active \(registered: .*cpu.*\): call await setBackend/);
  await expect(setBackend("cpu-removable")).rejects.toThrow(/unknown backend "cpu-removable"/);
  use(extra);
  await setBackend("cpu-removable");
  const t = tensor([2]);
  expect(t.item()).toBe(2);
  t.dispose(); // removing the active backend refuses while tensors live on it
  removeBackend("cpu-removable");
});

test("backendInstance creates a backend without switching to it", async () => {
  await setBackend("cpu");
  const active = getBackend();
  const other = await backendInstance(BACKENDS[BACKENDS.length - 1]!);
  expect(getBackend()).toBe(active);
  expect(typeof other.matmul).toBe("function");
});

forEachBackend("kernels", (name) => {
  test("backendKernels() lists every required kernel and the optional fast paths", () => {
    const k = backendKernels();
    expect(getBackend().name).toBe(name);
    expect(k.required).toEqual([...REQUIRED_KERNELS]);
    for (const o of k.optional) expect(OPTIONAL_KERNELS as readonly string[]).toContain(o);
    if (name === "cpu") expect(k.optional).toEqual([...OPTIONAL_KERNELS]);
    // a backend with no optional kernels reports none
    const bare = { ...getBackend(), kernels: undefined };
    expect(backendKernels(bare).optional).toEqual([]);
  });
});
