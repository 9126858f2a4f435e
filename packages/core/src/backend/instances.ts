/** The backend plugin registry, the backends created from it, and the active one: process-wide. */
import { BACKEND_PACKAGES } from "@neurite/catalog";
import { RegistryError } from "../errors.js";
import { sharedState } from "../process-state.js";
import { Registry } from "../registry/registry.js";
import type { Backend, BackendPlugin } from "./contract.js";

/**
 * @internal the registered backend plugins, the instances created from them (one per name, on first use) and
 * the active instance, which ops run on. What live tensors hold on each instance is accounted in
 * tensor/accounting.ts; backend/registry.ts's `removeBackend` and `memory` combine the two.
 */
class Backends {
  readonly registry = new Registry<BackendPlugin>("backend", BACKEND_PACKAGES);
  private readonly created = new Map<string, Backend>();
  private current: Backend | undefined;

  /** The active backend; throws, naming what to install or call, when there is none. */
  get active(): Backend {
    if (this.current) return this.current;
    const registered = this.registry.names();
    if (registered.length === 0) {
      throw new RegistryError(
        `no backend is registered: install ${BACKEND_PACKAGES.cpu} (or ${BACKEND_PACKAGES.wasm}), then call ` +
          "use(cpuBackend) and await setBackend(\"cpu\") before creating tensors",
      );
    }
    throw new RegistryError(
      `no backend is active (registered: ${registered.join(", ")}): call await setBackend(${JSON.stringify(registered[0])}) first`,
    );
  }

  get hasActive(): boolean {
    return this.current !== undefined;
  }

  /**
   * Makes a registered backend the active one, creating it on first use. A backend already created becomes
   * active at once, before the returned promise settles (an un-awaited `setBackend` of it switches at once).
   */
  async activate(name: string, options?: unknown): Promise<Backend> {
    const instance = this.created.get(name) ?? (await this.instance(name, options));
    this.current = instance;
    return instance;
  }

  /** Creates (if needed) and returns a backend without making it the active one. */
  async instance(name: string, options?: unknown): Promise<Backend> {
    let instance = this.created.get(name);
    if (!instance) {
      const plugin = this.registry.get(name);
      instance = await plugin.create(options);
      this.created.set(name, instance);
    }
    return instance;
  }

  /** The created instances, by registered name. */
  createdInstances(): ReadonlyMap<string, Backend> {
    return this.created;
  }

  /**
   * Releases the instance created under `name` (no longer active, disposed, forgotten). The caller has moved or
   * refused the live tensors on it first.
   */
  release(name: string): void {
    const instance = this.created.get(name);
    if (!instance) return;
    if (this.current === instance) this.current = undefined;
    instance.dispose?.();
    this.created.delete(name);
  }
}

/** Process-wide: one backend registry and one active backend for every copy of the core loaded (see process-state.ts). */
export const backends = sharedState("backends", () => new Backends());
