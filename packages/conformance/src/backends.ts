import { type BackendPlugin, backendInstance, listBackends, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";

/** Backends that loaded, and why the others were skipped. */
export interface BackendAvailability {
  /** Registered and created: the names to run on. */
  readonly available: string[];
  /** Requested but not usable, with the reason. */
  readonly skipped: Record<string, string>;
}

/** First-party backends the runner can load by name. */
export const KNOWN_BACKENDS = ["cpu", "wasm"] as const;

const LOADERS: Readonly<Record<string, () => Promise<BackendPlugin>>> = {
  cpu: () => Promise.resolve(cpuBackend),
  wasm: () => Promise.resolve(wasmBackend),
};

/**
 * Makes the requested backends usable: registered ones are created, first-party ones ("cpu", "wasm") are
 * loaded and registered first. "all" means every registered backend and every first-party one that loads.
 */
export async function prepareBackends(requested: readonly string[] | "all"): Promise<BackendAvailability> {
  const names = requested === "all" ? [...new Set([...listBackends(), ...KNOWN_BACKENDS])] : [...new Set(requested)];
  const available: string[] = [];
  const skipped: Record<string, string> = {};
  for (const name of names) {
    try {
      if (!listBackends().includes(name)) {
        const load = LOADERS[name];
        if (!load) throw new Error(`unknown backend (registered: ${listBackends().join(", ") || "none"}; loadable: ${KNOWN_BACKENDS.join(", ")})`);
        use(await load());
      }
      await backendInstance(name);
      available.push(name);
    } catch (e) {
      skipped[name] = (e as Error).message;
    }
  }
  return { available, skipped };
}
