/** The comparisons of MLP cases: tolerances, one case's accumulated checks, and planned cases. */
import { type Tolerance, compareArrays } from "@neurite/testkit";
import type { CaseStatus } from "@neurite/testkit";

/** The reference README's tolerances for MLP files. */
export const MLP_TOLERANCES = {
  forward: { rtol: 1e-5, atol: 1e-6 },
  loss: { rtol: 1e-5, atol: 1e-6 },
  grads: { rtol: 1e-4, atol: 1e-6 },
  params: { rtol: 1e-5, atol: 1e-6 },
  /** Momentum buffers and first moments are gradient-like. */
  firstMoment: { rtol: 1e-4, atol: 1e-6 },
  /** Second moments are squared gradients times (1 − β2): an atol of 1e-6 would accept anything there. */
  secondMoment: { rtol: 1e-4, atol: 1e-10 },
  /** "Check every checkpoint within 1e-5" (relative for losses above 1). */
  trajectory: { rtol: 1e-5, atol: 1e-5 },
} as const satisfies Record<string, Tolerance>;

/** What one case came to. */
export interface Outcome {
  readonly status: CaseStatus;
  readonly maxAbsErr: number | null;
  readonly maxRelErr: number | null;
  readonly message: string;
}

/** A case found in the file, run later on each backend. */
export interface PlannedCase {
  readonly id: string;
  readonly op: string;
  run(): Outcome;
}

export function unsupportedCase(id: string, op: string, message: string): PlannedCase {
  return { id, op, run: () => ({ status: "unsupported", maxAbsErr: null, maxRelErr: null, message }) };
}

/** f once, its value (or its error) remembered. */
export function memo<T>(f: () => T): () => T {
  let state: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  return () => {
    if (!state) {
      try {
        state = { ok: true, value: f() };
      } catch (error) {
        state = { ok: false, error };
      }
    }
    if (!state.ok) throw state.error;
    return state.value;
  };
}

/** Accumulates the comparisons of one case. */
export class Check {
  private maxAbsErr: number | null = null;
  private maxRelErr: number | null = null;
  private readonly problems: string[] = [];

  values(what: string, expected: readonly number[], actual: ArrayLike<number>, tol: Tolerance, shapes?: { expected?: readonly number[]; actual?: readonly number[] }): void {
    if (shapes?.expected && shapes.actual && (shapes.expected.length !== shapes.actual.length || shapes.expected.some((d, i) => d !== shapes.actual![i]))) {
      this.problems.push(`${what}: shape [${shapes.actual.join(", ")}], expected [${shapes.expected.join(", ")}]`);
      return;
    }
    const c = compareArrays(expected, actual, tol);
    if (Number.isFinite(c.maxAbsErr)) {
      this.maxAbsErr = Math.max(this.maxAbsErr ?? 0, c.maxAbsErr);
      this.maxRelErr = Math.max(this.maxRelErr ?? 0, c.maxRelErr);
    }
    if (!c.ok) {
      const b = c.firstBad!;
      this.problems.push(
        b.index < 0
          ? `${what}: ${b.actual} values, expected ${b.expected}`
          : `${what}[${b.index}] = ${b.actual}, expected ${b.expected} (rtol ${tol.rtol}, atol ${tol.atol}; max |err| ${c.maxAbsErr.toExponential(2)})`,
      );
    }
  }

  outcome(): Outcome {
    if (this.maxAbsErr === null && this.problems.length === 0) return { status: "unsupported", maxAbsErr: null, maxRelErr: null, message: "nothing to compare" };
    return { status: this.problems.length ? "fail" : "pass", maxAbsErr: this.maxAbsErr, maxRelErr: this.maxRelErr, message: this.problems.join("; ") };
  }
}
