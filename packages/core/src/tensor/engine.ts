import type { Backend, BackendPlugin, DataId } from "../backend/contract.js";
import { RegistryError } from "../errors.js";
import { BACKEND_PACKAGES } from "@neurite/catalog";
import { Registry } from "../registry/registry.js";


/**
 * A refcounted backend buffer. Tensors that share data (reshape) share a Storage; the buffer is freed
 * when the last of them is disposed (or garbage-collected, through the FinalizationRegistry safety net).
 */
export class Storage {
  refs = 1;
  constructor(
    readonly backend: Backend,
    readonly id: DataId,
    readonly size: number,
  ) {
    engine.bytes += size * 4;
  }
  retain(): this {
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0) {
      engine.bytes -= this.size * 4;
      this.backend.free(this.id);
    }
  }
}

/** Anything that can be disposed; tensors and variables. */
export interface Disposable {
  dispose(): void;
}

/** @internal global state: the active backend, live-tensor counts and the scope stack. */
class Engine {
  readonly backends = new Registry<BackendPlugin>("backend", BACKEND_PACKAGES);
  private readonly instances = new Map<string, Backend>();
  private active: Backend | undefined;
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

  removeBackend(name: string): void {
    const b = this.instances.get(name);
    if (b) {
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

export const engine = new Engine();

// ---- async scopes: AsyncLocalStorage where the platform has it (Node), so concurrent scopes stay apart ----
interface AsyncLocalStorageLike<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}
type AlsCtor = new <T>() => AsyncLocalStorageLike<T>;
let als: AsyncLocalStorageLike<Set<Disposable>> | undefined | null = null;

function getAls(): AsyncLocalStorageLike<Set<Disposable>> | undefined {
  if (als === null) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = proc?.getBuiltinModule?.("node:async_hooks") as { AsyncLocalStorage?: AlsCtor } | undefined;
    als = mod?.AsyncLocalStorage ? new mod.AsyncLocalStorage<Set<Disposable>>() : undefined;
  }
  return als;
}

function asyncScopeStore(): Set<Disposable> | undefined {
  return als ? als.getStore() : undefined;
}

/** @internal runs fn with `set` as the async scope (AsyncLocalStorage), or on the scope stack where there is none. */
export async function runInAsyncScope<R>(set: Set<Disposable>, fn: () => Promise<R>): Promise<R> {
  const storage = getAls();
  if (storage) return storage.run(set, fn);
  engine.scopes.push(set);
  try {
    return await fn();
  } finally {
    const i = engine.scopes.lastIndexOf(set);
    if (i >= 0) engine.scopes.splice(i, 1);
  }
}
