import { NeuriteError } from "../errors.js";
import { type Disposable, runInAsyncScope } from "./async-scope.js";
import { scopeState } from "./scope-state.js";

/** Tensors inside a returned value: itself, or inside arrays, Maps and plain objects. */
function collect(value: unknown, into: Set<Disposable>, depth = 0): void {
  if (!value || typeof value !== "object" || depth > 8) return;
  if ("dispose" in value && "shape" in value) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, depth + 1);
}

/** Part of a gradient graph still being recorded (inside valueAndGrad's function): its backward pass reads it later. */
function inGraph(t: Disposable): boolean {
  return scopeState.recordingDepth > 0 && (t as { requiresGrad?: boolean }).requiresGrad === true;
}

function closeScope(created: Set<Disposable>, result: unknown): void {
  const kept = new Set<Disposable>();
  collect(result, kept);
  for (const t of created) {
    // inside valueAndGrad, tensors of the recorded graph go to the enclosing scope (valueAndGrad's own, which
    // frees them after the backward pass) instead of being freed before the backward pass reads them
    if (!kept.has(t) && inGraph(t)) kept.add(t);
    else if (!kept.has(t)) t.dispose();
  }
  // what the scope returns belongs to the enclosing scope now
  for (const t of kept) if (created.has(t)) scopeState.track(t);
}

/**
 * Runs fn and disposes every tensor created inside it except those it returns (directly, or inside
 * arrays, Maps and plain objects) and those passed to {@link keep}.
 *
 * @example
 * const loss = scope(() => predict(x).sub(y).square().mean()); // intermediates are freed
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Disposable>();
  scopeState.scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopeState.scopes.pop();
    for (const t of created) t.dispose();
    throw e;
  }
  scopeState.scopes.pop();
  if (result instanceof Promise) {
    for (const t of created) t.dispose();
    throw new NeuriteError("scope(fn): fn returned a Promise, whose tensors would be freed before it settles; use await scopeAsync(fn) for async work");
  }
  closeScope(created, result);
  return result;
}

/**
 * The async form of {@link scope}: tensors created by fn, across its awaits, are freed when it settles,
 * except those it returns. Concurrent async scopes stay apart where the platform has AsyncLocalStorage
 * (Node); in browsers they share one stack, so run them one at a time there.
 */
export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const created = new Set<Disposable>();
  let result: T;
  try {
    result = await runInAsyncScope(created, fn, scopeState.scopes);
  } catch (e) {
    for (const t of created) t.dispose();
    throw e;
  }
  closeScope(created, result);
  return result;
}

/** Exempts a tensor from disposal by the scopes it was created in. Returns it. */
export function keep<T extends Disposable>(t: T): T {
  scopeState.untrack(t);
  return t;
}
