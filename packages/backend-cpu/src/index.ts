/**
 * `@neurite/backend-cpu`: the plain-TypeScript CPU backend of Neurite.
 *
 * ```ts
 * import { setBackend, use } from "@neurite/core";
 * import { cpuBackend } from "@neurite/backend-cpu";
 * use(cpuBackend);
 * await setBackend("cpu");
 * ```
 * @packageDocumentation
 */
import type { BackendPlugin } from "@neurite/core";
import { CpuBackend } from "./backend.js";
// the package identity saved models record: from package.json at build time (the bundler keeps just these two strings)
import { name as PACKAGE, version as VERSION } from "../package.json";

export { CpuBackend } from "./backend.js";
export { CpuBuffer } from "./memory.js";

/** The CPU backend as a plugin: register it with `use(cpuBackend)`, then `setBackend("cpu")`. */
export const cpuBackend: BackendPlugin = {
  kind: "backend",
  name: "cpu",
  package: PACKAGE,
  version: VERSION,
  create: () => new CpuBackend(),
};
