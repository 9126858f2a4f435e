/**
 * The recording protocol shared by compiled training steps and compiled inference: record an eager run,
 * compare it with the previous run of the same shapes, and when both made the same kernel calls, hand
 * the caller what a plan needs. Per shape, a cache moves from "recorded" to "compiled", or to "eager"
 * with the reason.
 */
import type { Backend, DataId } from "../backend/contract.js";
import { accounting } from "../tensor/accounting.js";
import type { Storage } from "../tensor/storage.js";
import { StepTrace, Tokens } from "./trace.js";

/** A first recording, kept to compare the next run with. */
export interface Recording {
  readonly text: readonly string[];
  /** Names of outside objects, shared with the next recording so that the same object reads the same. */
  readonly others: Map<object, number>;
  /** Consecutive pairs that differed so far. */
  readonly mismatches: number;
}

/** Where one shape stands. */
export type ShapeState<Plan> =
  | ({ readonly phase: "recorded" } & Recording)
  | { readonly phase: "compiled"; readonly plan: Plan }
  | { readonly phase: "eager"; readonly reason: string };

/** Consecutive recordings that may differ before a shape stays eager. */
const MAX_MISMATCHES = 3;
export const CALLS_DIFFER = `${MAX_MISMATCHES} pairs of consecutive runs made different kernel calls: the run depends on host state such as random numbers`;

/** The cache key of a run: the shapes of its inputs. */
export function shapeKey(tensors: readonly { readonly shape: readonly number[] }[]): string {
  return tensors.map((t) => t.shape.join(",")).join("|");
}

/** What `status()` reports for a shape. */
export type PlanStatus = "recording" | "compiled" | { readonly eager: string };

export function statusOf(state: ShapeState<unknown> | undefined): PlanStatus {
  if (!state || state.phase === "recorded") return "recording";
  return state.phase === "compiled" ? "compiled" : { eager: state.reason };
}

/**
 * Runs `work` while recording the kernel calls on `backend`, with the buffers `roleIds` named by role.
 * With `first` (a second recording), frees of buffers made during the run are held back for the plan.
 * On a throw, everything held back is freed and the recording stopped. Calls are recorded only during
 * `work`; the trace keeps holding frees back until the caller stops it.
 */
export function recordRun<T>(
  backend: Backend, roleIds: readonly DataId[], roleNames: readonly string[], first: Recording | undefined, work: () => T,
): { result: T; trace: StepTrace; others: Map<object, number> } {
  const roles = new Map<DataId, string>(roleIds.map((id, i) => [id, roleNames[i]!]));
  const others = first?.others ?? new Map<object, number>();
  const trace = new StepTrace(backend, new Tokens(roles, others), first !== undefined);
  try {
    const result = work();
    trace.recordCalls = false;
    return { result, trace, others };
  } catch (e) {
    abandon(trace);
    throw e;
  }
}

/** Stops a recording and frees what it held back. */
export function abandon(trace: StepTrace): void {
  trace.stop();
  for (const id of trace.heldBack) trace.backend.free(id);
  trace.heldBack.clear();
}

/** The state after a first recording. */
export function afterFirst<Plan>(trace: StepTrace, others: Map<object, number>): ShapeState<Plan> {
  trace.stop();
  return trace.problem ? { phase: "eager", reason: trace.problem } : { phase: "recorded", text: trace.text, others, mismatches: 0 };
}

/** The state after a second recording that cannot be replayed (`reason`); frees what it held back. */
export function afterMismatch<Plan>(trace: StepTrace, first: Recording, reason: string): ShapeState<Plan> {
  abandon(trace);
  // a one-off difference (the first run after a change) is compared again with the next run
  const retry = reason === CALLS_DIFFER && first.mismatches + 1 < MAX_MISMATCHES;
  return retry ? { phase: "recorded", text: trace.text, others: first.others, mismatches: first.mismatches + 1 } : { phase: "eager", reason };
}

/**
 * Why a second recording cannot be replayed, or undefined. `resultIds` are the buffers of the results the
 * plan keeps (they must be made by the run; every other buffer it made must have been freed by its end).
 */
export function replayProblem(trace: StepTrace, first: Recording, resultIds: ReadonlySet<DataId>): string | undefined {
  if (trace.problem) return trace.problem;
  if (trace.text.length !== first.text.length || trace.text.some((t, i) => t !== first.text[i])) return CALLS_DIFFER;
  for (const id of resultIds) if (!trace.internal.has(id)) return "a result of the run is not a buffer the run made";
  for (const [id] of trace.uploads) {
    // an uploaded constant is written once, by the upload: a replay must not find it overwritten
    if (trace.calls.some((c) => writesTo(c.args, id))) return "a kernel writes to an uploaded constant";
  }
  for (const [id] of trace.internal) if (!trace.heldBack.has(id) && !resultIds.has(id)) return "a tensor made during the run outlives it";
  return undefined;
}

/**
 * Keeps alive the outside buffers the calls read that have no role (a layer's constant tensors): each is
 * retained through its storage, so that nothing frees it while the plan reads it. A buffer that no live
 * tensor holds cannot be kept: the reason is returned instead.
 */
export function pinOutsideBuffers(trace: StepTrace): Storage[] | string {
  const outside = new Set(trace.outsideBuffers());
  if (outside.size === 0) return [];
  const pinned: Storage[] = [];
  for (const held of accounting.buffersOn(trace.backend)) {
    const storage = held as Storage;
    if (outside.delete(storage.id)) pinned.push(storage);
  }
  if (outside.size > 0) return "a kernel reads a buffer that no live tensor holds";
  for (const s of pinned) s.retain();
  return pinned;
}

/** Whether a kernel's arguments name `id` as an output: `out` (a buffer or a view) or `preActivation`. */
function writesTo(args: unknown, id: DataId): boolean {
  if (typeof args !== "object" || args === null) return false;
  const { out, preActivation } = args as { out?: unknown; preActivation?: unknown };
  return out === id || preActivation === id || (typeof out === "object" && out !== null && (out as { id?: unknown }).id === id);
}
