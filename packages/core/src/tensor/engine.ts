import { sharedState } from "../process-state.js";
import type { Backend, BackendPlugin } from "../backend/contract.js";
import { RegistryError } from "../errors.js";
import { BACKEND_PACKAGES } from "@neurite/catalog";
import { Registry } from "../registry/registry.js";
import { type Disposable, asyncScopeStore } from "./async-scope.js";

/**
 * A live buffer as the engine accounts for it (implemented by `Storage` in ./storage.ts, which imports this
 * module: the engine names only what it needs, so the two do not import each other).
 */
export interface HeldBuffer {
  readonly size: number;
  /** Moves the buffer to another backend (see Storage.moveTo). */
  moveTo(target: Backend): void;
}

/**
 * @internal the process-wide state: the backend registry and the active backend, live-tensor and buffer
 * accounting, and the scope stack. Its behaviour lives beside the data it serves: buffers in ./storage.ts,
 * async scopes in ./async-scope.ts, the public backend functions in backend/registry.ts.
 */
class Engine {
  readonly backends = new Registry<BackendPlugin>("backend", BACKEND_PACKAGES);
  private readonly instances = new Map<string, Backend>();
  private active: Backend | undefined;
  /** The live storages of each backend: for per-backend accounting, and to move them off a backend being removed. */
  private readonly held = new Map<Backend, Set<HeldBuffer>>();
  liveTensors = 0;
  bytes = 0;
  /** Tensors created in each open scope, innermost last. */
  readonly scopes: Set<Disposable>[] = [];
  /** While > 0, ops do not record gradients (backward passes, optimizer updates). */
  noGradDepth = 0;
  /** While > 0, a function being differentiated is running: scopes inside it keep the recorded graph. */
  recordingDepth = 0;

  get backend(): Backend {
    if (this.active) return this.active;
    const registered = this.backends.names();
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

  get hasBackend(): boolean {
    return this.active !== undefined;
  }

  async setBackend(name: string, options?: unknown): Promise<Backend> {
    let instance = this.instances.get(name);
    if (!instance) {
      const plugin = this.backends.get(name);
      instance = await plugin.create(options);
      this.instances.set(name, instance);
    }
    this.active = instance;
    return instance;
  }

  /** Creates (if needed) and returns a backend without making it the active one. */
  async backendInstance(name: string, options?: unknown): Promise<Backend> {
    const active = this.active;
    const b = await this.setBackend(name, options);
    this.active = active;
    return b;
  }

  holdings(backend: Backend): Set<HeldBuffer> {
    let set = this.held.get(backend);
    if (!set) this.held.set(backend, (set = new Set()));
    return set;
  }

  /** Buffers and bytes held by live tensors on each created backend, by registered name. */
  perBackend(): Record<string, { buffers: number; bytes: number }> {
    const out: Record<string, { buffers: number; bytes: number }> = {};
    for (const [name, b] of this.instances) {
      let bytes = 0;
      const set = this.held.get(b);
      for (const s of set ?? []) bytes += s.size * 4;
      out[name] = { buffers: set?.size ?? 0, bytes };
    }
    return out;
  }

  removeBackend(name: string): void {
    const b = this.instances.get(name);
    if (b) {
      // live tensors must not point into a released backend: move them to the active one, or refuse
      const live = this.held.get(b);
      if (live && live.size > 0) {
        if (this.active === undefined || this.active === b) {
          let bytes = 0;
          for (const s of live) bytes += s.size * 4;
          throw new RegistryError(
            `removeBackend(${JSON.stringify(name)}): ${live.size} live tensor buffer${live.size === 1 ? "" : "s"} (${bytes} bytes) still on it; ` +
              `dispose ${live.size === 1 ? "it" : "them"} first, or make another backend active (await setBackend(...)) and removeBackend moves ${live.size === 1 ? "it" : "them"} there`,
          );
        }
        for (const s of [...live]) s.moveTo(this.active);
      }
      this.held.delete(b);
      if (this.active === b) this.active = undefined;
      b.dispose?.();
      this.instances.delete(name);
    }
    this.backends.unregister(name);
  }

  track(t: Disposable): void {
    const store = asyncScopeStore();
    const top = this.scopes[this.scopes.length - 1] ?? store;
    top?.add(t);
  }

  untrack(t: Disposable): void {
    for (const s of this.scopes) s.delete(t);
    asyncScopeStore()?.delete(t);
  }
}

/** Process-wide: one engine for every copy of the core loaded (see shared.ts). */
export const engine = sharedState("engine", () => new Engine());
