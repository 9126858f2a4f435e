/**
 * Compiled inference: `predict` on batches of one shape records its forward pass twice, then replays it
 * (see recording.ts). The output of each replay is a new tensor the caller owns: the calls that write it
 * are re-bound to a fresh buffer every time, like the input.
 */
import type { Backend } from "../backend/contract.js";
import { onActiveBackend } from "../ops/kernel.js";
import { Storage } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import type { Variable } from "../tensor/variable.js";
import { KernelPlan } from "./plan.js";
import { type PlanStatus, type ShapeState, afterFirst, afterMismatch, pinOutsideBuffers, recordRun, replayProblem, shapeKey, statusOf } from "./recording.js";

/** A compiled forward pass of one input shape. */
class CompiledForward {
  constructor(
    readonly backend: Backend,
    readonly weights: readonly Variable[],
    private readonly kernels: KernelPlan,
    private readonly outputShape: readonly number[],
    private readonly outputSize: number,
  ) {}

  fits(weights: readonly Variable[], backend: Backend): boolean {
    return backend === this.backend && weights.length === this.weights.length && weights.every((w, i) => w === this.weights[i]);
  }

  run(x: Tensor): Tensor {
    const out = this.backend.alloc(this.outputSize);
    try {
      this.kernels.run([x.storage.id, out, ...this.weights.map((w) => w.storage.id)]);
    } catch (e) {
      this.backend.free(out);
      throw e;
    }
    return new Tensor(new Storage(this.backend, out, this.outputSize), this.outputShape);
  }

  dispose(): void {
    this.kernels.dispose();
  }
}

/**
 * A batch of up to this many values is copied into a buffer of the plan's own at each run, so that the calls
 * reading it stay prepared; a larger one is bound where it is and those calls are prepared again, which costs
 * less than the copy (1024×784 values took 0.2 ms to copy on one wasm thread and 0.45 ms on two: 3–6 % of the
 * bench MLP's prediction).
 */
const COPY_INPUT_MAX = 1 << 16;

/** @internal runs a model's forward passes for `predict`, compiled where it can (one plan per input shape). */
export class ForwardCompiler {
  private readonly states = new Map<string, ShapeState<CompiledForward>>();

  status(x: Tensor): PlanStatus {
    return statusOf(this.states.get(shapeKey([x])));
  }

  /**
   * `forward(x)` (no gradients recorded, inference mode) or its replay. `weights` are every weight the
   * pass may read, in a fixed order.
   */
  run(x: Tensor, weights: readonly Variable[], forward: (x: Tensor) => Tensor): Tensor {
    const backend = onActiveBackend(x, "predict").storage.backend;
    const k = shapeKey([x]);
    let state = this.states.get(k);
    if (state?.phase === "compiled") {
      if (state.plan.fits(weights, backend)) return state.plan.run(x);
      state.plan.dispose();
      this.states.delete(k);
      state = undefined;
    }
    if (state?.phase === "eager") return forward(x);
    for (const w of weights) onActiveBackend(w, "predict");
    // the output has a role too: each replay writes a new buffer in its place
    const roleIds = [x.storage.id, ...weights.map((w) => w.storage.id)];
    if (new Set(roleIds).size !== roleIds.length) {
      this.states.set(k, { phase: "eager", reason: "the input and the weights share a buffer" });
      return forward(x);
    }
    const first = state?.phase === "recorded" ? state : undefined;
    const names = ["X", ...weights.map((_, i) => `W${i}`)];
    const { result: y, trace, others } = recordRun(backend, roleIds, names, first, () => forward(x));
    if (!first) {
      this.states.set(k, afterFirst(trace, others));
      return y;
    }
    const problem = replayProblem(trace, first, new Set([y.storage.id]));
    const pinned = problem === undefined ? pinOutsideBuffers(trace) : [];
    if (problem !== undefined || typeof pinned === "string") {
      this.states.set(k, afterMismatch(trace, first, problem ?? (pinned as string)));
      return y;
    }
    trace.stop();
    // the output's buffer stays the caller's: the plan writes a fresh one in its place at each run
    const [xId, ...weightIds] = roleIds;
    const copied = x.size <= COPY_INPUT_MAX ? [{ role: 0, size: x.size }] : [];
    const kernels = new KernelPlan(backend, trace.calls, [xId!, y.storage.id, ...weightIds], [...trace.heldBack], pinned, copied);
    this.states.set(k, { phase: "compiled", plan: new CompiledForward(backend, [...weights], kernels, y.shape, y.size) });
    return y;
  }

  /** Frees every plan. */
  reset(): void {
    for (const s of this.states.values()) if (s.phase === "compiled") s.plan.dispose();
    this.states.clear();
  }
}
