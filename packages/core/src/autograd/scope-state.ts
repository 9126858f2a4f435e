/** The open scopes and the gradient-recording depths: process-wide. */
import { sharedState } from "../process-state.js";
import { type Disposable, asyncScopeStore } from "./async-scope.js";

/** @internal what scope(), noGrad() and valueAndGrad() have open now. */
class ScopeState {
  /** Tensors created in each open synchronous scope, innermost last. */
  readonly scopes: Set<Disposable>[] = [];
  /** While > 0, ops do not record gradients (backward passes, optimizer updates). */
  noGradDepth = 0;
  /** While > 0, a function being differentiated is running: scopes inside it keep the recorded graph. */
  recordingDepth = 0;

  /** Adds a new tensor to the innermost open scope (synchronous, else the running task's async scope), if any. */
  track(t: Disposable): void {
    const top = this.scopes[this.scopes.length - 1] ?? asyncScopeStore();
    top?.add(t);
  }

  /** Takes a tensor out of every open scope (it was disposed, or kept). */
  untrack(t: Disposable): void {
    for (const s of this.scopes) s.delete(t);
    asyncScopeStore()?.delete(t);
  }
}

/** Process-wide: a scope opened through one copy of the core sees the tensors another creates (see process-state.ts). */
export const scopeState = sharedState("scope-state", () => new ScopeState());
