/** Async scopes: AsyncLocalStorage where the platform has it (Node), so concurrent scopes stay apart. */
import { sharedState } from "../process-state.js";

/** Anything that can be disposed; tensors and variables. */
export interface Disposable {
  dispose(): void;
}

interface AsyncLocalStorageLike<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}
type AlsCtor = new <T>() => AsyncLocalStorageLike<T>;
/** Process-wide, like the scope stack (scope-state.ts): a scope opened through one copy of the core must see tensors another creates. */
const asyncScopes = sharedState<{ storage: AsyncLocalStorageLike<Set<Disposable>> | undefined | null }>("async-scopes", () => ({ storage: null }));

function getAls(): AsyncLocalStorageLike<Set<Disposable>> | undefined {
  if (asyncScopes.storage === null) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const mod = proc?.getBuiltinModule?.("node:async_hooks") as { AsyncLocalStorage?: AlsCtor } | undefined;
    asyncScopes.storage = mod?.AsyncLocalStorage ? new mod.AsyncLocalStorage<Set<Disposable>>() : undefined;
  }
  return asyncScopes.storage;
}

/** @internal the async scope of the running task, if any. */
export function asyncScopeStore(): Set<Disposable> | undefined {
  return asyncScopes.storage ? asyncScopes.storage.getStore() : undefined;
}

/** @internal runs fn with `set` as the async scope (AsyncLocalStorage), or on `scopeStack` (scope-state.ts's) where there is none. */
export async function runInAsyncScope<R>(set: Set<Disposable>, fn: () => Promise<R>, scopeStack: Set<Disposable>[]): Promise<R> {
  const storage = getAls();
  if (storage) return storage.run(set, fn);
  scopeStack.push(set);
  try {
    return await fn();
  } finally {
    const i = scopeStack.lastIndexOf(set);
    if (i >= 0) scopeStack.splice(i, 1);
  }
}
