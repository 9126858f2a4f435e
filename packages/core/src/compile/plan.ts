/**
 * A recorded sequence of kernel calls replayed over buffers the plan owns: no tensor objects, no tape and
 * no scopes per op. Only the buffers with a role (the batch, the parameters) change from one replay to
 * the next; the calls that read them are re-bound to the current buffers.
 */
import type { Backend, DataId, StridedView } from "../backend/contract.js";
import { input } from "../expr/expr.js";
import { replayKernel, replaysDirectly } from "../backend/observe.js";
import type { Storage } from "../tensor/storage.js";
import type { RecordedCall } from "./trace.js";

const COPY = input(0);

/** Copies `value` with each role buffer replaced by the current one; everything else is shared. */
function rebind(value: unknown, roleIndex: ReadonlyMap<DataId, number>, current: readonly DataId[]): unknown {
  if (typeof value !== "object" || value === null) return value;
  const role = roleIndex.get(value);
  if (role !== undefined) return current[role];
  if (Array.isArray(value)) return value.map((v) => rebind(v, roleIndex, current));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = rebind(v, roleIndex, current);
  return out;
}

/** The roles whose buffers `value` holds. */
function rolesIn(value: unknown, roleIndex: ReadonlyMap<DataId, number>, found: Set<number>): Set<number> {
  if (typeof value !== "object" || value === null) return found;
  const role = roleIndex.get(value);
  if (role !== undefined) found.add(role);
  else if (Array.isArray(value)) for (const v of value) rolesIn(v, roleIndex, found);
  else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) for (const v of Object.values(value)) rolesIn(v, roleIndex, found);
  }
  return found;
}

/** One call of the plan: its arguments for the current role buffers, and the backend's prepared form of it. */
interface PlannedCall {
  readonly name: string;
  readonly optional: boolean;
  /** As recorded. */
  readonly recorded: unknown;
  /** The roles it reads or writes. */
  readonly roles: readonly number[];
  args: unknown;
  /** Prepared by the backend for `args`; undefined until first needed, or where the backend does not prepare. */
  prepared: (() => void) | undefined;
}

/** @internal a replayable kernel sequence; see the module comment. */
export class KernelPlan {
  private readonly calls: PlannedCall[];
  private readonly roleIndex: ReadonlyMap<DataId, number>;
  /** The role buffers the calls' arguments hold now. */
  private readonly boundTo: DataId[];
  private disposed = false;

  /** Buffers of the plan's own that the copied roles' data is copied into at each run. */
  private readonly slots: readonly { readonly role: number; readonly id: DataId; readonly view: StridedView; readonly shape: readonly number[] }[];
  private readonly owned: DataId[];

  /**
   * @param roles the buffers each role had when the calls were recorded, in role order.
   * @param owned the buffers the plan frees when it is disposed.
   * @param pinned outside storages the calls read, retained by the plan and released when it is disposed.
   * @param copied roles (with their sizes) whose data each run copies into a buffer of the plan's own, so that
   *   the calls reading them stay bound and prepared (a batch is a new tensor at every step; one copy costs
   *   less than re-binding every call that reads it).
   */
  constructor(
    readonly backend: Backend, calls: readonly RecordedCall[], roles: readonly DataId[], owned: readonly DataId[],
    private readonly pinned: readonly Storage[], copied: readonly { readonly role: number; readonly size: number }[] = [],
  ) {
    this.roleIndex = new Map(roles.map((id, i) => [id, i]));
    this.boundTo = [...roles];
    this.calls = calls.map((c) => ({
      name: c.name, optional: c.optional, recorded: c.args, args: c.args, prepared: undefined,
      roles: [...rolesIn(c.args, this.roleIndex, new Set())],
    }));
    this.owned = [...owned];
    this.slots = copied.map(({ role, size }) => {
      const id = backend.alloc(size);
      this.owned.push(id);
      return { role, id, view: { id, offset: 0, strides: [1] }, shape: [size] };
    });
    const fixed = [...roles];
    for (const slot of this.slots) fixed[slot.role] = slot.id;
    this.bind(fixed);
  }

  /**
   * Runs every call, with the role buffers `current` (same order as the roles given at construction). A
   * copied role's data is read from `offsets[role]` elements into its buffer (rows of a larger tensor).
   */
  run(current: readonly DataId[], offsets?: readonly number[]): void {
    if (this.disposed) throw new Error("KernelPlan.run after dispose");
    const backend = this.backend;
    let roles = current;
    if (this.slots.length > 0) {
      const withSlots = [...current];
      const copy = backend.kernels?.copy;
      for (const slot of this.slots) {
        const from = current[slot.role]!;
        const xOffset = offsets?.[slot.role] ?? 0;
        if (copy) copy({ x: from, xOffset, out: slot.id, size: slot.shape[0]! });
        else backend.elementwise({ program: COPY, label: "copy", inputs: [{ id: from, offset: xOffset, strides: [1] }], scalars: [], shape: slot.shape, out: slot.view });
        withSlots[slot.role] = slot.id;
      }
      roles = withSlots;
    }
    this.bind(roles);
    const direct = replaysDirectly(backend);
    for (const c of this.calls) replayKernel(backend, direct, c.name, c.optional, c.args, c);
  }

  /** Re-binds the calls that read a role whose buffer is not the one they hold. */
  private bind(current: readonly DataId[]): void {
    const bound = this.boundTo;
    let changed = false;
    for (let r = 0; r < current.length; r++) if (current[r] !== bound[r]) changed = true;
    if (changed) {
      for (const c of this.calls) {
        if (c.roles.some((r) => current[r] !== bound[r])) {
          c.args = rebind(c.recorded, this.roleIndex, current);
          c.prepared = undefined;
        }
      }
      for (let r = 0; r < current.length; r++) bound[r] = current[r]!;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.pinned) s.release();
    try {
      for (const id of this.owned) this.backend.free(id);
    } catch {
      // the backend was released (removeBackend) with the plan's buffers: nothing is left to free
    }
  }
}
