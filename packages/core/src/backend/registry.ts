import type { RegisterOptions } from "../registry/registry.js";
import { accounting } from "../tensor/accounting.js";
import { RegistryError } from "../errors.js";
import { type Backend, type BackendPlugin, OPTIONAL_KERNELS, REQUIRED_KERNELS } from "./contract.js";
import { backends } from "./instances.js";

/** Registers a backend plugin (the same as `use(plugin)`). */
export function registerBackend(plugin: BackendPlugin, options?: RegisterOptions): void {
  backends.registry.register(plugin, options);
}

/**
 * Makes a registered backend the active one, creating it on first use. Tensors created before keep their
 * data where it is until an op uses them: then it moves to the active backend, in place (the tensor object,
 * a model's weights and an optimizer's state stay valid; the old buffer is freed). An unknown name, or a
 * backend whose creation fails, rejects and leaves the active backend as it was.
 */
export async function setBackend(name: string, options?: unknown): Promise<Backend> {
  return backends.activate(name, options);
}

/** The active backend (throws, naming what to install or call, when there is none). */
export function getBackend(): Backend {
  return backends.active;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return backends.registry.names();
}

/** A created backend instance by name, without switching to it. */
export async function backendInstance(name: string, options?: unknown): Promise<Backend> {
  return backends.instance(name, options);
}

/**
 * Unregisters a backend and releases its instance. Live tensors whose data is on it move to the active
 * backend first; when it is the active backend itself (or none is active) and tensors still live on it,
 * this throws a `RegistryError` and changes nothing: dispose them, or switch to another backend first.
 */
export function removeBackend(name: string): void {
  const instance = backends.createdInstances().get(name);
  if (instance) {
    // live tensors must not point into a released backend: move them to the active one, or refuse
    const live = accounting.buffersOn(instance);
    if (live.size > 0) {
      const target = backends.hasActive ? backends.active : undefined;
      if (target === undefined || target === instance) {
        const { buffers, bytes } = accounting.holdingsOn(instance);
        const them = buffers === 1 ? "it" : "them";
        throw new RegistryError(
          `removeBackend(${JSON.stringify(name)}): ${buffers} live tensor buffer${buffers === 1 ? "" : "s"} (${bytes} bytes) still on it; ` +
            `dispose ${them} first, or make another backend active (await setBackend(...)) and removeBackend moves ${them} there`,
        );
      }
      for (const buffer of [...live]) buffer.moveTo(target);
    }
    accounting.forget(instance);
    backends.release(name);
  }
  backends.registry.unregister(name);
}

/** The kernels a backend provides: the required ones, and which optional fast paths it has. */
export function backendKernels(backend: Backend = backends.active): { required: string[]; optional: string[] } {
  return {
    required: REQUIRED_KERNELS.filter((k) => typeof backend[k] === "function"),
    optional: OPTIONAL_KERNELS.filter((k) => typeof backend.kernels?.[k] === "function"),
  };
}

/** Live tensors and the memory they hold: compare before and after to prove nothing leaks. */
export interface MemoryInfo {
  /** Tensors (and variables) not yet disposed. */
  readonly tensors: number;
  /** Bytes held by live tensors. */
  readonly bytes: number;
  /** What the active backend itself reports holding. */
  readonly backend?: { readonly name: string; readonly bytes: number; readonly buffers: number };
  /**
   * Buffers and bytes held by live tensors on each created backend, by registered name (absent before any
   * backend is created). After `setBackend`, data moves from one entry to another as ops use it.
   */
  readonly byBackend?: Readonly<Record<string, { readonly buffers: number; readonly bytes: number }>>;
}

/** Live tensors and bytes, what the active backend reports, and what live tensors hold on each backend. */
export function memory(): MemoryInfo {
  const b = backends.hasActive ? backends.active : undefined;
  const byBackend: Record<string, { buffers: number; bytes: number }> = {};
  for (const [name, instance] of backends.createdInstances()) byBackend[name] = accounting.holdingsOn(instance);
  return {
    tensors: accounting.liveTensors,
    bytes: accounting.bytes,
    ...(b ? { backend: { name: b.name, ...b.memory() } } : {}),
    ...(Object.keys(byBackend).length > 0 ? { byBackend } : {}),
  };
}
