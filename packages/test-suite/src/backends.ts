/**
 * The backends the suite runs against: every first-party backend. Every backend test is written once and
 * parametrised by backend name with {@link forEachBackend}.
 */
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { setBackend, use } from "@neurite/core";
import { beforeAll, describe } from "vitest";

const PLUGINS = [cpuBackend, wasmBackend];

/** Names of the backends every backend test runs against, "cpu" first (the reference for parity). */
export const BACKENDS: readonly string[] = PLUGINS.map((p) => p.name);

let registered = false;

/** Registers every backend plugin (once per file). */
export function registerBackends(): void {
  if (registered) return;
  use(...PLUGINS);
  registered = true;
}

/**
 * `describe.each` over every backend: the body's tests run with that backend active.
 * The backend name appears in every test's title, so the report shows which backends ran.
 */
export function forEachBackend(title: string, body: (backend: string) => void): void {
  registerBackends();
  describe.each(BACKENDS)(`%s backend: ${title}`, (name) => {
    beforeAll(async () => {
      await setBackend(name);
    });
    body(name);
  });
}
