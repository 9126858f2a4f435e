/**
 * Observing a backend's kernel calls and buffers from outside: what compiled training steps record and
 * replay, and what the profiler times. Nothing here changes what a kernel computes.
 */
import { NeuriteError } from "../errors.js";
import { type Backend, type DataId, REQUIRED_KERNELS } from "./contract.js";

/** What an observer sees. Every hook is optional. */
export interface BackendObserver {
  /**
   * Called for each kernel call (required or optional) made from outside the backend: `run` performs it
   * and must be called exactly once. `optional` tells `backend.kernels.<name>` from `backend.<name>`.
   */
  kernel?(name: string, optional: boolean, args: unknown, run: () => void): void;
  /** A buffer was allocated (by `alloc` or `upload`; `values` is the uploaded data, for `upload`). */
  allocated?(id: DataId, size: number, values?: Float32Array): void;
  /** Return true to keep the buffer: the backend does not free it (its new owner frees it later). */
  freeing?(id: DataId): boolean;
  /** A buffer is read back to JavaScript. */
  reading?(id: DataId): void;
}

interface Instrumentation {
  readonly observers: BackendObserver[];
  /** Undoes the wrapping: restores each replaced property as it was. */
  readonly restore: () => void;
}

const instrumented = new WeakMap<Backend, Instrumentation>();
/** Kernel calls in progress: calls a backend makes to itself inside a kernel are not observed again. */
let depth = 0;

type AnyFunction = (...args: unknown[]) => unknown;

/** Replaces `object[key]` by an own property and returns how to restore it. */
function replace(object: object, key: string, value: unknown): () => void {
  const own = Object.getOwnPropertyDescriptor(object, key);
  Object.defineProperty(object, key, { value, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
  return () => {
    if (own) Object.defineProperty(object, key, own);
    else delete (object as Record<string, unknown>)[key];
  };
}

function install(backend: Backend): Instrumentation | undefined {
  const observers: BackendObserver[] = [];
  const restores: (() => void)[] = [];
  const target = backend as unknown as Record<string, AnyFunction>;

  const kernel = (name: string, optional: boolean, original: AnyFunction, self: object) => (args: unknown): void => {
    if (depth > 0 || observers.length === 0) {
      original.call(self, args);
      return;
    }
    depth++;
    try {
      let run = (): void => void original.call(self, args);
      for (const o of observers) {
        if (!o.kernel) continue;
        const inner = run;
        run = () => o.kernel!(name, optional, args, inner);
      }
      run();
    } finally {
      depth--;
    }
  };

  for (const name of REQUIRED_KERNELS) restores.push(replace(backend, name, kernel(name, false, target[name]!, backend)));
  const optional = backend.kernels;
  if (optional) {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(optional)) {
      if (typeof fn === "function") wrapped[name] = kernel(name, true, fn as AnyFunction, optional);
    }
    restores.push(replace(backend, "kernels", Object.freeze(wrapped)));
  }

  const alloc = target.alloc!;
  restores.push(replace(backend, "alloc", (size: number) => {
    const id = alloc.call(backend, size) as DataId;
    if (depth === 0) for (const o of observers) o.allocated?.(id, size);
    return id;
  }));
  const upload = target.upload!;
  restores.push(replace(backend, "upload", (values: Float32Array) => {
    const id = upload.call(backend, values) as DataId;
    if (depth === 0) for (const o of observers) o.allocated?.(id, values.length, values);
    return id;
  }));
  const free = target.free!;
  restores.push(replace(backend, "free", (id: DataId) => {
    let keep = false;
    if (depth === 0) for (const o of observers) keep = (o.freeing?.(id) ?? false) || keep;
    if (!keep) free.call(backend, id);
  }));
  const read = target.read!;
  restores.push(replace(backend, "read", (id: DataId) => {
    if (depth === 0) for (const o of observers) o.reading?.(id);
    return read.call(backend, id);
  }));
  if (typeof target.readAsync === "function") {
    const readAsync = target.readAsync;
    restores.push(replace(backend, "readAsync", (id: DataId) => {
      if (depth === 0) for (const o of observers) o.reading?.(id);
      return readAsync.call(backend, id);
    }));
  }
  const restore = (): void => {
    for (const r of restores.reverse()) r();
  };
  // a backend whose properties do not read back as set (a Proxy that makes its own methods) cannot be watched
  // this way: callers would bypass the wrappers, or the wrappers would call themselves
  const installed = [...REQUIRED_KERNELS, "alloc", "upload", "free", "read"].every((k) => Object.getOwnPropertyDescriptor(backend, k)?.value === target[k]);
  if (!installed) {
    restore();
    return undefined;
  }
  return { observers, restore };
}

/**
 * Observes `backend` until the returned function is called. Observers may be added and removed in any
 * order; the backend's own methods are wrapped while at least one observer is attached, and restored
 * exactly as they were when the last one leaves. Throws for a backend whose methods cannot be wrapped
 * (a Proxy that makes its own functions on each read); {@link tryObserveBackend} returns undefined instead.
 */
export function observeBackend(backend: Backend, observer: BackendObserver): () => void {
  const detach = tryObserveBackend(backend, observer);
  if (!detach) throw new NeuriteError(`backend ${backend.name} cannot be observed: its methods do not read back as they are set (is it a Proxy?); observe the backend it wraps instead`);
  return detach;
}

/** {@link observeBackend}, or undefined where the backend cannot be observed. */
export function tryObserveBackend(backend: Backend, observer: BackendObserver): (() => void) | undefined {
  let inst = instrumented.get(backend);
  if (!inst) {
    inst = install(backend);
    if (!inst) return undefined;
    instrumented.set(backend, inst);
  }
  const current = inst;
  current.observers.push(observer);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    current.observers.splice(current.observers.indexOf(observer), 1);
    if (current.observers.length === 0) {
      current.restore();
      instrumented.delete(backend);
    }
  };
}

/** Whether an observer is attached to `backend` now. */
export function isObserved(backend: Backend): boolean {
  return instrumented.has(backend);
}

/**
 * Calls a kernel by name as a compiled plan replays it: `backend.<name>` or `backend.kernels.<name>`.
 * Looked up at each call, so an observer attached later (the profiler) sees replayed calls too.
 */
export function callKernel(backend: Backend, name: string, optional: boolean, args: unknown): void {
  const owner = (optional ? backend.kernels : backend) as unknown as Record<string, AnyFunction> | undefined;
  const fn = owner?.[name];
  if (typeof fn !== "function") throw new TypeError(`backend ${backend.name}: kernel ${name} is gone`);
  fn.call(owner, args);
}

/** A replayed call's prepared form, made on its first direct run (see {@link replayKernel}). */
export interface PreparedSlot {
  prepared: (() => void) | undefined;
}

/**
 * Whether replays may run prepared calls now: the backend prepares, and no observer (the profiler) watches it,
 * which sees calls only through the backend's methods.
 */
export function replaysDirectly(backend: Backend): boolean {
  return backend.prepare !== undefined && !isObserved(backend);
}

/**
 * Runs one replayed kernel call: through its prepared form when `direct` ({@link replaysDirectly}), prepared once
 * and kept in `slot` (a plain call where the backend does not prepare this kernel), else through the backend's
 * methods.
 */
export function replayKernel(backend: Backend, direct: boolean, name: string, optional: boolean, args: unknown, slot: PreparedSlot): void {
  if (!direct) {
    callKernel(backend, name, optional, args);
    return;
  }
  slot.prepared ??= backend.prepare!(name, optional, args) ?? (() => callKernel(backend, name, optional, args));
  slot.prepared();
}
