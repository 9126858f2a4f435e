/**
 * Before any backend is registered (vitest runs each file in its own module graph, and this file registers
 * nothing until its last test): the errors must say what to install and what to call.
 */
import { cpuBackend } from "@neurite/backend-cpu";
import { RegistryError, getBackend, listBackends, memory, ones, setBackend, tensor, use } from "@neurite/core";
import { expect, test } from "vitest";

test("with no backend registered, creating a tensor names @neurite/backend-cpu and the calls to make", () => {
  expect(listBackends()).toEqual([]);
  expect(() => tensor([1, 2])).toThrow(RegistryError);
  expect(() => tensor([1, 2])).toThrow(/no backend is registered: install @neurite\/backend-cpu.*use\(cpuBackend\).*setBackend\("cpu"\)/);
  expect(() => ones([2])).toThrow(/@neurite\/backend-cpu/);
  expect(() => getBackend()).toThrow(/@neurite\/backend-cpu/);
  // memory() works without a backend and reports nothing live
  expect(memory()).toEqual({ tensors: 0, bytes: 0 });
});

test("setBackend of a name nobody registered says which package provides it", async () => {
  await expect(setBackend("cpu")).rejects.toThrow(RegistryError);
  await expect(setBackend("cpu")).rejects.toThrow(/unknown backend "cpu" \(no backend is registered\); "cpu" is provided by @neurite\/backend-cpu: install it and register it with use\(\.\.\.\)/);
  await expect(setBackend("wasm")).rejects.toThrow(/@neurite\/backend-wasm/);
});

test("registered but not yet active: the error says to call setBackend with the registered name", async () => {
  use(cpuBackend);
  expect(() => tensor([1])).toThrow(/no backend is active \(registered: cpu\): call await setBackend\("cpu"\) first/);
  await setBackend("cpu");
  expect(tensor([1, 2]).dataSync()).toEqual(new Float32Array([1, 2]));
});
