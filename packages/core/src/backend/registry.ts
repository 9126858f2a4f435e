import type { RegisterOptions } from "../registry/registry.js";
import { engine } from "../tensor/engine.js";
import { type Backend, type BackendPlugin, OPTIONAL_KERNELS, REQUIRED_KERNELS } from "./contract.js";

/** Registers a backend plugin (the same as `use(plugin)`). */
export function registerBackend(plugin: BackendPlugin, options?: RegisterOptions): void {
  engine.backends.register(plugin, options);
}

/**
 * Makes a registered backend the active one, creating it on first use. Tensors created before keep their
 * data where it is until an op uses them: then it moves to the active backend, in place (the tensor object,
 * a model's weights and an optimizer's state stay valid; the old buffer is freed). An unknown name, or a
 * backend whose creation fails, rejects and leaves the active backend as it was.
 */
export async function setBackend(name: string, options?: unknown): Promise<Backend> {
  return engine.setBackend(name, options);
}

/** The active backend (throws, naming what to install or call, when there is none). */
export function getBackend(): Backend {
  return engine.backend;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return engine.backends.names();
}

/** A created backend instance by name, without switching to it. */
export async function backendInstance(name: string, options?: unknown): Promise<Backend> {
  return engine.backendInstance(name, options);
}

/**
 * Unregisters a backend and releases its instance. Live tensors whose data is on it move to the active
 * backend first; when it is the active backend itself (or none is active) and tensors still live on it,
 * this throws a `RegistryError` and changes nothing: dispose them, or switch to another backend first.
 */
export function removeBackend(name: string): void {
  engine.removeBackend(name);
}

/** The kernels a backend provides: the required ones, and which optional fast paths it has. */
export function backendKernels(backend: Backend = engine.backend): { required: string[]; optional: string[] } {
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
  const b = engine.hasBackend ? engine.backend : undefined;
  const byBackend = engine.perBackend();
  return {
    tensors: engine.liveTensors,
    bytes: engine.bytes,
    ...(b ? { backend: { name: b.name, ...b.memory() } } : {}),
    ...(Object.keys(byBackend).length > 0 ? { byBackend } : {}),
  };
}
