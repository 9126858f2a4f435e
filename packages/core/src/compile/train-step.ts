/**
 * Compiled training steps. A step of fixed shapes runs eagerly twice while its kernel calls are recorded;
 * when the two recordings read the same, the step is a fixed kernel sequence, and later steps replay it
 * over buffers the plan owns (see plan.ts), then run the optimizer's compiled in-place update. Anything
 * that would make a replay differ from the eager step keeps that step eager: host reads or random
 * uploads inside it, a buffer replaced, another backend, other parameters or another optimizer.
 *
 * Replays compute exactly the eager step's kernel calls, so results are bit-identical; tests prove it for
 * every optimizer and loss.
 */
import type { Backend } from "../backend/contract.js";
import { isRecordingGradients } from "../autograd/record.js";
import { keep } from "../autograd/scope.js";
import { valueAndGradOf } from "../autograd/tape.js";
import { onActiveBackend } from "../ops/kernel.js";
import { slice } from "../ops/shape-ops.js";
import type { Storage } from "../tensor/storage.js";
import { Tensor } from "../tensor/tensor.js";
import type { Variable } from "../tensor/variable.js";
import type { Logs } from "../training/callbacks.js";
import type { CompiledUpdate } from "../training/in-place-updates.js";
import type { MetricFn } from "../training/metrics.js";
import type { Optimizer } from "../training/optimizers.js";
import { KernelPlan } from "./plan.js";
import { type PlanStatus, type ShapeState, afterFirst, afterMismatch, pinOutsideBuffers, recordRun, replayProblem, shapeKey, statusOf } from "./recording.js";

/** What a training step computes, as the model describes it. */
export interface TrainStep {
  /** Forward pass and loss, run while gradients are recorded: the scalar loss and the model's output. */
  readonly lossAndOutput: (x: Tensor, y: Tensor) => { readonly loss: Tensor; readonly output: Tensor };
  readonly metrics: readonly { readonly name: string; readonly fn: MetricFn }[];
  readonly optimizer: Optimizer;
  /** Every weight of the model (trainable or not), in a fixed order: the buffers a plan re-binds. */
  readonly weights: readonly Variable[];
  /** The trainable weights, in a fixed order. */
  readonly params: readonly Variable[];
}

/** The tensors one eager forward and backward pass leaves: the loss, the gradients and the output. */
interface StepTensors {
  readonly value: Tensor;
  readonly grads: readonly Tensor[];
  readonly output: Tensor;
}

/**
 * A compiled step: the replayed forward and backward passes, the storages of their results (the loss, the
 * output and the gradients, which the plan keeps), and the optimizer's compiled update.
 */
class CompiledStep {
  constructor(
    readonly backend: Backend,
    readonly optimizer: Optimizer,
    readonly weights: readonly Variable[],
    readonly params: readonly Variable[],
    private readonly kernels: KernelPlan,
    private readonly results: { readonly value: Storage; readonly output: Storage; readonly outputShape: readonly number[]; readonly grads: readonly Storage[] },
    private readonly update: CompiledUpdate,
  ) {}

  /** Whether this plan is still the step `step` asks for, on the buffers it was made for. */
  fits(step: TrainStep, backend: Backend): boolean {
    return backend === this.backend && step.optimizer === this.optimizer && sameList(step.weights, this.weights) && sameList(step.params, this.params) && this.update.valid();
  }

  run(step: TrainStep, x: Tensor, y: Tensor): Logs {
    this.kernels.run([x.storage.id, y.storage.id, ...this.weights.map((w) => w.storage.id)]);
    this.update.run();
    return this.logs(step, y);
  }

  /** {@link run} on rows [start, start + rows) of x and y, copied straight into the plan's buffers. */
  runRows(step: TrainStep, x: Tensor, y: Tensor, start: number, rows: number): Logs {
    const rowSize = (t: Tensor): number => t.size / t.shape[0]!;
    this.kernels.run([x.storage.id, y.storage.id, ...this.weights.map((w) => w.storage.id)], [start * rowSize(x), start * rowSize(y)]);
    this.update.run();
    if (step.metrics.length === 0) return this.logs(step, y);
    const yRows = slice(y, start, start + rows);
    try {
      return this.logs(step, yRows);
    } finally {
      yRows.dispose();
    }
  }

  /** Only the optimizer's update: the step that compiled the plan ran its passes eagerly. */
  runUpdate(): void {
    this.update.run();
  }

  /** The loss and metrics of the step just run (the output lent to the metrics as a tensor). */
  logs(step: TrainStep, y: Tensor): Logs {
    const logs: Logs = { loss: this.backend.read(this.results.value.id)[0]! };
    if (step.metrics.length === 0) return logs;
    const output = new Tensor(this.results.output.retain(), this.results.outputShape, false);
    try {
      for (const m of step.metrics) logs[m.name] = m.fn(y, output);
    } finally {
      output.dispose();
    }
    return logs;
  }

  dispose(): void {
    this.kernels.dispose();
    for (const s of [this.results.value, this.results.output, ...this.results.grads]) s.release();
  }
}

const sameList = <T>(a: readonly T[], b: readonly T[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Loss and metrics: host reads, after the kernels and never inside a recording. */
function logsOf(step: TrainStep, y: Tensor, tensors: StepTensors): Logs {
  const logs: Logs = { loss: tensors.value.item() };
  for (const m of step.metrics) logs[m.name] = m.fn(y, tensors.output);
  return logs;
}

/** The eager forward and backward pass; the output is kept for the metrics. */
function forwardBackward(step: TrainStep, x: Tensor, y: Tensor): StepTensors {
  let output: Tensor | undefined;
  try {
    const { value, grads } = valueAndGradOf(() => {
      const r = step.lossAndOutput(x, y);
      output = keep(r.output);
      return r.loss;
    }, step.params);
    return { value, grads, output: output! };
  } catch (e) {
    output?.dispose();
    throw e;
  }
}

/** The rest of an eager step: metrics, the optimizer's step, then the tensors freed. */
function finishEager(step: TrainStep, y: Tensor, tensors: StepTensors): Logs {
  try {
    const logs = logsOf(step, y, tensors);
    step.optimizer.step(step.params, tensors.grads);
    return logs;
  } finally {
    for (const t of [tensors.value, tensors.output, ...tensors.grads]) t.dispose();
  }
}

/**
 * @internal runs a model's training steps, compiled where it can (one plan per batch shape).
 * `enabled: false` keeps every step eager.
 */
export class TrainStepCompiler {
  private readonly states = new Map<string, ShapeState<CompiledStep>>();
  /** The shape key {@link stepRows} looked up last, and what it was for. */
  private lastRowsKey: { readonly xShape: readonly number[]; readonly yShape: readonly number[]; readonly rows: number; readonly key: string } | undefined;
  enabled = true;

  /** How steps of these shapes run now; for diagnostics and tests. */
  status(x: Tensor, y: Tensor): PlanStatus {
    return statusOf(this.states.get(shapeKey([x, y])));
  }

  step(step: TrainStep, x: Tensor, y: Tensor): Logs {
    const backend = onActiveBackend(x, "trainOnBatch").storage.backend;
    onActiveBackend(y, "trainOnBatch");
    // inside someone else's gradient recording, a step must be recorded like any other op: eager
    if (!this.enabled || isRecordingGradients()) return finishEager(step, y, forwardBackward(step, x, y));
    const k = shapeKey([x, y]);
    let state = this.states.get(k);
    if (state?.phase === "compiled") {
      if (state.plan.fits(step, backend)) return state.plan.run(step, x, y);
      state.plan.dispose();
      this.states.delete(k);
      state = undefined;
    }
    if (state?.phase === "eager") return finishEager(step, y, forwardBackward(step, x, y));

    // weights on another backend move here now, not inside the recording (a move uploads them)
    for (const w of step.weights) onActiveBackend(w, "trainOnBatch");
    const roleIds = [x.storage.id, y.storage.id, ...step.weights.map((w) => w.storage.id)];
    if (new Set(roleIds).size !== roleIds.length) {
      this.states.set(k, { phase: "eager", reason: "the inputs, targets or weights share a buffer" });
      return finishEager(step, y, forwardBackward(step, x, y));
    }
    const first = state?.phase === "recorded" ? state : undefined;
    const roleNames = ["X", "Y", ...step.weights.map((_, i) => `W${i}`)];
    const { result: tensors, trace, others } = recordRun(backend, roleIds, roleNames, first, () => forwardBackward(step, x, y));
    if (!first) {
      this.states.set(k, afterFirst(trace, others));
      return finishEager(step, y, tensors);
    }
    const results = [tensors.value, tensors.output, ...tensors.grads];
    const problem = replayProblem(trace, first, new Set(results.map((t) => t.storage.id)));
    const update = problem === undefined ? step.optimizer.compileStep?.(step.params, tensors.grads) : undefined;
    const pinned = problem === undefined && update ? pinOutsideBuffers(trace) : [];
    const reason = problem ?? (update ? (typeof pinned === "string" ? pinned : undefined) : `the optimizer ${step.optimizer.name} has no compiled step here`);
    if (reason !== undefined || !update || typeof pinned === "string") {
      this.states.set(k, afterMismatch(trace, first, reason ?? "not replayable"));
      return finishEager(step, y, tensors);
    }
    // the plan keeps the results' storages; the tensors go
    const keep = (t: Tensor): Storage => t.storage.retain();
    const kept = { value: keep(tensors.value), output: keep(tensors.output), outputShape: tensors.output.shape, grads: tensors.grads.map(keep) };
    for (const t of results) t.dispose();
    trace.stop();
    const kernels = new KernelPlan(backend, trace.calls, roleIds, [...trace.heldBack], pinned, [{ role: 0, size: x.size }, { role: 1, size: y.size }]);
    const compiled = new CompiledStep(backend, step.optimizer, [...step.weights], [...step.params], kernels, kept, update);
    this.states.set(k, { phase: "compiled", plan: compiled });
    // this step's update is the compiled one's first run
    compiled.runUpdate();
    return compiled.logs(step, y);
  }

  /**
   * A step on rows [start, end) of x and y (what `fit` trains on, from a shuffled copy of the data): a
   * compiled plan copies the rows in directly; otherwise the rows become tensors for {@link step}.
   */
  stepRows(step: TrainStep, x: Tensor, y: Tensor, start: number, end: number): Logs {
    if (start === 0 && end === x.shape[0]) return this.step(step, x, y);
    const backend = onActiveBackend(x, "fit").storage.backend;
    onActiveBackend(y, "fit");
    const rows = end - start;
    const state = this.enabled && !isRecordingGradients() ? this.states.get(this.rowsKey(x, y, rows)) : undefined;
    if (state?.phase === "compiled" && state.plan.fits(step, backend)) return state.plan.runRows(step, x, y, start, rows);
    const xRows = slice(x, start, end);
    const yRows = slice(y, start, end);
    try {
      return this.step(step, xRows, yRows);
    } finally {
      xRows.dispose();
      yRows.dispose();
    }
  }

  /** The shape key of `rows` rows of x and y; an epoch's steps share the tensors, so the last key is kept. */
  private rowsKey(x: Tensor, y: Tensor, rows: number): string {
    const last = this.lastRowsKey;
    if (last?.xShape === x.shape && last.yShape === y.shape && last.rows === rows) return last.key;
    const key = shapeKey([{ shape: [rows, ...x.shape.slice(1)] }, { shape: [rows, ...y.shape.slice(1)] }]);
    this.lastRowsKey = { xShape: x.shape, yShape: y.shape, rows, key };
    return key;
  }

  /** Frees every plan (a new optimizer, a disposed model). */
  reset(): void {
    for (const s of this.states.values()) if (s.phase === "compiled") s.plan.dispose();
    this.states.clear();
  }
}
