/**
 * @neurite/catalog, the directory the core's "install X" hints come from, matches the first-party plugins:
 * every activation of every family under that family's package, every backend under its package, nothing else.
 */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { ACTIVATION_PACKAGES, BACKEND_PACKAGES } from "@neurite/catalog";
import { expect, test } from "vitest";

test("lists every first-party activation under its family's package, and nothing else", () => {
  const provided: Record<string, string> = {};
  for (const family of [sigmoidFamily, reluFamily, softmaxFamily, smoothFamily]) {
    for (const a of family.activations) provided[a.name] = family.package;
  }
  expect(ACTIVATION_PACKAGES).toEqual(provided);
});

test("lists every first-party backend under its package, and nothing else", () => {
  expect(BACKEND_PACKAGES).toEqual(Object.fromEntries([cpuBackend, wasmBackend].map((b) => [b.name, b.package])));
});
