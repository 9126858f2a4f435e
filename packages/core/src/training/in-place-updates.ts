/**
 * An optimizer's step as kernel calls that write the parameters and their state in place: what a compiled
 * training step runs after its replayed forward and backward passes. The programs and scalars are the
 * eager step's own, so both compute the same values bit for bit.
 */
import type { AdamArgs, Backend, DataId, ElementwiseArgs } from "../backend/contract.js";
import { replayKernel, replaysDirectly } from "../backend/observe.js";
import type { Expr } from "../expr/expr.js";
import { contiguousView, onActiveBackend } from "../ops/kernel.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Variable } from "../tensor/variable.js";

/** Adam's per-step settings: everything in {@link AdamArgs} but the buffers. */
export type AdamSettings = Omit<AdamArgs, "param" | "grad" | "m" | "v" | "size">;

type Call =
  | { readonly kind: "elementwise"; readonly args: ElementwiseArgs; prepared: (() => void) | undefined }
  | { readonly kind: "adam"; readonly param: DataId; readonly grad: DataId; readonly m: DataId; readonly v: DataId; readonly size: number };

/** A compiled optimizer step; see {@link Optimizer.compileStep}. */
export interface CompiledUpdate {
  /** Applies one step, reading the optimizer's current settings (its `lr`). */
  run(): void;
  /** False once a buffer it writes was replaced or is shared (an `assign` from outside): compile again. */
  valid(): boolean;
}

/** @internal collects in-place updates, then runs them each step. */
export class InPlaceUpdates {
  private readonly calls: Call[] = [];
  private readonly written = new Map<Variable, DataId>();
  /** The step's scalars, shared by every call that takes them: written in place at each run (Backend.prepare). */
  private readonly stepScalars: number[] = [];

  constructor(readonly backend: Backend) {}

  /**
   * Makes each tensor's buffer its own and on this backend, before any call is built: a copy made later
   * would leave earlier calls reading the old buffer.
   */
  own(targets: readonly Variable[]): void {
    for (const t of targets) {
      onActiveBackend(t, "optimizer");
      this.written.set(t, t.exclusiveStorageId());
    }
  }

  /** target ← program(inputs), with fixed `scalars` or, when omitted, the step's. */
  elementwise(target: Variable, program: Expr, inputs: readonly Tensor[], scalars?: readonly number[]): void {
    const out = this.writes(target);
    const shape = target.shape;
    const args: ElementwiseArgs = {
      program, label: "optimizer", inputs: inputs.map((t) => contiguousView(t.storage.id, shape)), shape, out: contiguousView(out, shape), scalars: scalars ?? this.stepScalars,
    };
    this.calls.push({ kind: "elementwise", args, prepared: undefined });
  }

  /** One fused Adam kernel call over a parameter, its gradient and both moments. */
  adam(param: Variable, grad: Tensor, m: Variable, v: Variable): void {
    this.calls.push({ kind: "adam", param: this.writes(param), grad: grad.storage.id, m: this.writes(m), v: this.writes(v), size: param.size });
  }

  run(stepScalars: readonly number[], adam?: AdamSettings): void {
    const b = this.backend;
    this.stepScalars.length = 0;
    this.stepScalars.push(...stepScalars);
    const direct = replaysDirectly(b);
    for (const c of this.calls) {
      if (c.kind === "elementwise") {
        replayKernel(b, direct, "elementwise", false, c.args, c);
      } else {
        b.kernels!.adam!({ param: c.param, grad: c.grad, m: c.m, v: c.v, size: c.size, ...adam! });
      }
    }
  }

  valid(): boolean {
    for (const [t, id] of this.written) if (t.isDisposed || t.storage.id !== id || t.storage.refs !== 1) return false;
    return true;
  }

  private writes(target: Variable): DataId {
    const id = this.written.get(target);
    if (id === undefined) throw new Error(`InPlaceUpdates: ${target.name} was not owned first`);
    return id;
  }
}
