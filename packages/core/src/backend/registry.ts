import type { RegisterOptions } from "../registry/registry.js";
import { engine } from "../tensor/engine.js";
import { type Backend, type BackendPlugin, OPTIONAL_KERNELS, REQUIRED_KERNELS } from "./contract.js";

/** Registers a backend plugin (the same as `use(plugin)`). */
export function registerBackend(plugin: BackendPlugin, options?: RegisterOptions): void {
  engine.backends.register(plugin, options);
}

/**
 * Makes a registered backend the active one, creating it on first use. Tensors created before keep their
 * backend; ops move their inputs to the active one.
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

/** Unregisters a backend and releases its instance. */
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
}

export function memory(): MemoryInfo {
  const b = engine.hasBackend ? engine.backend : undefined;
  return { tensors: engine.liveTensors, bytes: engine.bytes, ...(b ? { backend: { name: b.name, ...b.memory() } } : {}) };
}
