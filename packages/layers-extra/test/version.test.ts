/**
 * One source for plugin identity: the version a saved model records is the one in package.json, read at build
 * time. A copy of this package whose package.json says another version is built, and a model using its layers
 * records that version.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpuBackend } from "@neurite/backend-cpu";
import { type LayerFamily, saveModel, sequential, setBackend, use } from "@neurite/core";
import { build } from "tsup";
import { afterAll, beforeAll, expect, it } from "vitest";

// inside the package (ignored by git as build output), so the copy resolves @neurite/core like the package does
const copy = new URL("../build/version-copy/", import.meta.url);
const BUMPED = "9.8.7-test.1";

beforeAll(async () => {
  use(cpuBackend);
  await setBackend("cpu");
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  cpSync(new URL("../src/", import.meta.url), new URL("src/", copy), { recursive: true });
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as Record<string, unknown>;
  writeFileSync(new URL("package.json", copy), JSON.stringify({ ...manifest, version: BUMPED }));
  await build({
    config: false, entry: [new URL("src/index.ts", copy).pathname], format: ["esm"], outDir: new URL("dist/", copy).pathname,
    dts: false, silent: true, external: ["@neurite/core"],
  });
}, 120_000);

afterAll(() => rmSync(copy, { recursive: true, force: true }));

it("a model saved with a rebuilt package records the version in its package.json", async () => {
  const built = readFileSync(new URL("dist/index.js", copy), "utf8");
  // the JSON import keeps only the two fields used, not the rest of package.json
  expect(built).toContain(JSON.stringify(BUMPED));
  expect(built).not.toMatch(/devDependencies|"description"|sideEffects/);
  const { extraLayers } = (await import(new URL("dist/index.js", copy).href)) as { extraLayers: LayerFamily };
  expect(extraLayers.version).toBe(BUMPED);
  use(extraLayers);
  const model = sequential([{ type: "gaussianNoise", stddev: 0.1, inputShape: [2] }, { type: "residualDense" }], { seed: 1 });
  const saved = saveModel(model);
  expect(saved.json.layers.map((l) => [l.package, l.version])).toEqual([
    ["@neurite/layers-extra", BUMPED],
    ["@neurite/layers-extra", BUMPED],
  ]);
  model.dispose();
});
