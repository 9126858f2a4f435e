/**
 * Recording one eager step as the backend sees it: the kernel calls in order, with each buffer named by
 * its role (an input, a parameter) or by the order it was allocated in. Two recordings of consecutive
 * steps that read the same are the proof that the step is a fixed sequence of kernels, and so can be
 * replayed without running the framework around them.
 */
import type { Backend, DataId } from "../backend/contract.js";
import { type BackendObserver, tryObserveBackend } from "../backend/observe.js";
import { isExpr } from "../expr/expr.js";

/** One kernel call as it was made. */
export interface RecordedCall {
  readonly name: string;
  readonly optional: boolean;
  readonly args: unknown;
}

/**
 * Why a step cannot be replayed, when it cannot: each is host-side work that a replay would skip.
 * `undefined` when none was seen.
 */
export type Irreplayable = string | undefined;

/** Names each object a kernel argument holds, so that two recordings compare as text. */
export class Tokens {
  /**
   * @param roles the role of each buffer that has one in this recording.
   * @param others names of objects that are neither roles nor allocated in a recording (constant buffers,
   *   caches): shared by the recordings compared, so that the same object reads the same in both.
   */
  constructor(readonly roles: ReadonlyMap<DataId, string>, private readonly others: Map<object, number>) {}
  other(o: object): string {
    let k = this.others.get(o);
    if (k === undefined) this.others.set(o, (k = this.others.size));
    return `E${k}`;
  }
}

/**
 * A recording in progress. While `recordCalls` is true each kernel call is kept; buffers allocated since
 * the start are "internal", and frees of them are held back (the plan that replays them owns them)
 * until {@link StepTrace.stop}.
 */
export class StepTrace implements BackendObserver {
  readonly calls: RecordedCall[] = [];
  /** Each call as text: comparable across recordings. */
  readonly text: string[] = [];
  /** Internal buffers, named by allocation order. */
  readonly internal = new Map<DataId, string>();
  /** Internal buffers whose free was held back. */
  readonly heldBack = new Set<DataId>();
  /** Uploaded internal buffers (constants, as far as two recordings agree) and their values. */
  readonly uploads = new Map<DataId, Float32Array>();
  recordCalls = true;
  problem: Irreplayable;
  /** Objects from before the run that the calls name and that have no role (constant buffers). */
  private readonly outside = new Set<object>();
  private readonly detach: () => void;

  /** @param keepFrees hold back frees of internal buffers (the recording a plan is made from). */
  constructor(readonly backend: Backend, private readonly tokens: Tokens, private readonly keepFrees: boolean) {
    const detach = tryObserveBackend(backend, this);
    if (!detach) this.problem = `the ${backend.name} backend cannot be observed (its methods are not plain properties)`;
    this.detach = detach ?? (() => undefined);
  }

  kernel(name: string, optional: boolean, args: unknown, run: () => void): void {
    run();
    if (!this.recordCalls) return;
    this.calls.push({ name, optional, args });
    this.text.push(`${optional ? "kernels." : ""}${name}${this.describe(args)}`);
  }

  allocated(id: DataId, _size: number, values?: Float32Array): void {
    if (!this.recordCalls) return;
    this.internal.set(id, `T${this.internal.size}`);
    if (values) {
      this.uploads.set(id, values.slice());
      this.text.push(`upload ${this.internal.get(id)} [${Array.from(values).join(",")}]`);
    }
  }

  freeing(id: DataId): boolean {
    if (this.internal.has(id)) {
      if (!this.keepFrees) return false;
      this.heldBack.add(id);
      return true;
    }
    // an outside buffer freed inside the step (a layer replacing its state with assign): a replay would not
    if (this.recordCalls && this.tokens.roles.has(id)) this.problem ??= "a parameter's or an input's buffer was freed during the step (its storage was replaced)";
    return false;
  }

  reading(id: DataId): void {
    // what the host does with the values it reads cannot be replayed (a label check, a data-dependent branch)
    if (this.recordCalls) this.problem ??= `a buffer (${this.name(id)}) was read back to JavaScript during the step`;
  }

  /** The objects from before the run that the recorded calls name without a role. */
  outsideBuffers(): readonly object[] {
    return [...this.outside];
  }

  /** Ends the recording: no more calls are kept and no more frees held back. */
  stop(): void {
    this.recordCalls = false;
    this.detach();
  }

  private name(id: DataId): string {
    return this.tokens.roles.get(id) ?? this.internal.get(id) ?? this.tokens.other(id);
  }

  /** Arguments as text: numbers exactly, expressions by key, buffers by role or allocation order. */
  private describe(value: unknown): string {
    switch (typeof value) {
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "string":
        return JSON.stringify(value);
      case "boolean":
      case "undefined":
        return String(value);
      case "object": {
        if (value === null) return "null";
        const role = this.tokens.roles.get(value) ?? this.internal.get(value);
        if (role !== undefined) return role;
        if (isExpr(value)) return `expr(${value.key})`;
        if (Array.isArray(value)) return `[${value.map((v) => this.describe(v)).join(",")}]`;
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto === Object.prototype || proto === null) {
          return `{${Object.entries(value).map(([k, v]) => `${k}:${this.describe(v)}`).join(",")}}`;
        }
        // a buffer from before the step that is no role (a cached constant): the same object both times
        this.outside.add(value);
        return this.tokens.other(value);
      }
      default:
        this.problem ??= `a kernel argument of type ${typeof value} cannot be recorded`;
        return "?";
    }
  }
}
