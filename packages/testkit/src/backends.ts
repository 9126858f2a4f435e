import { type BackendPlugin, backendInstance, listBackends, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";

/** Backends that loaded, and why the others were skipped. */
export interface BackendAvailability {
  /** Registered and created: the names to run on. */
  readonly available: string[];
  /** Requested but not usable, with the reason. */
  readonly skipped: Record<string, string>;
}

/** First-party backends the runner can load by name. */
export const KNOWN_BACKENDS = ["cpu", "wasm"] as const;

function isBackendPlugin(v: unknown): v is BackendPlugin {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "backend" && typeof (v as { create?: unknown }).create === "function";
}

/**
 * @neurite/backend-wasm is optional: not a dependency of this package (it may not be built yet), so it is
 * imported by a computed specifier (bundlers and TypeScript leave it alone), first by name, then from the
 * sibling package of a monorepo checkout. Failing both, it is unavailable with the reasons.
 */
async function loadWasm(): Promise<BackendPlugin> {
  const candidates = ["@neurite/backend-wasm"];
  try {
    candidates.push(new URL("../../backend-wasm/dist/index.js", import.meta.url).href);
  } catch {
    // no import.meta.url (an unusual bundle): the package name alone
  }
  const reasons: string[] = [];
  for (const spec of candidates) {
    try {
      const mod = (await import(spec)) as Record<string, unknown>;
      const plugin = mod.wasmBackend ?? Object.values(mod).find((v) => isBackendPlugin(v) && v.name === "wasm");
      if (isBackendPlugin(plugin)) return plugin;
      reasons.push(`${spec} exports no wasm backend plugin`);
    } catch (e) {
      reasons.push(`${spec}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(`@neurite/backend-wasm could not be loaded (${reasons.join("; ")})`);
}

const LOADERS: Readonly<Record<string, () => Promise<BackendPlugin>>> = {
  cpu: () => Promise.resolve(cpuBackend),
  wasm: loadWasm,
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
