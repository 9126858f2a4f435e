import { scopeState } from "./scope-state.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * Records that `out` was computed from `inputs`, when a gradient is being taken with respect to one of them.
 * `backward` maps the gradient of `out` to the gradient of each input (undefined where none flows).
 */
export function record(
  out: Tensor,
  op: string,
  inputs: readonly Tensor[],
  backward: (g: Tensor) => readonly (Tensor | undefined)[],
): Tensor {
  if (scopeState.noGradDepth > 0 || !inputs.some((t) => t.requiresGrad)) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward };
  return out;
}

/** Runs fn without recording gradients (optimizer updates, evaluation). */
export function noGrad<T>(fn: () => T): T {
  scopeState.noGradDepth++;
  try {
    return fn();
  } finally {
    scopeState.noGradDepth--;
  }
}

/**
 * Frees the temporaries that computed `result`, unless a gradient is being recorded through it: the recorded
 * graph then still reads them, and the enclosing gradient scope frees them. Returns `result`. For layer and
 * op plugins composed of core ops:
 *
 * @example
 * ```ts
 * const noise = normal(x.shape, { seed });
 * return releaseTemporaries(add(x, noise), noise); // noise is freed now unless a gradient is being recorded
 * ```
 */
export function releaseTemporaries<T extends Tensor>(result: T, ...temporaries: readonly Tensor[]): T {
  if (!result.requiresGrad) for (const t of temporaries) t.dispose();
  return result;
}

/** Whether a gradient is being recorded now (inside valueAndGrad and friends, outside noGrad). */
export function isRecordingGradients(): boolean {
  return scopeState.recordingDepth > 0 && scopeState.noGradDepth === 0;
}
