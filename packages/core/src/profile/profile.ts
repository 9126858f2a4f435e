/**
 * `profile(fn)`: runs fn with the active backend observed ({@link observeBackend}) and reports the time, calls,
 * bytes, FLOPs and threads of each kernel kind and op. Nothing here changes what a kernel computes.
 */
import type {
  AdamArgs, Backend, ElementwiseArgs, GatherArgs, MatmulArgs, ReduceArgs, RowsArgs, ScatterAddArgs,
} from "../backend/contract.js";
import { backends } from "../backend/instances.js";
import { observeBackend } from "../backend/observe.js";
import type { Expr } from "../expr/expr.js";
import { type KernelCall, type ProfileReport, buildReport } from "./report.js";

const now = (): number => performance.now();

/** A name for a program without a label: its root's op (`"mul"`, `"where"`), or the leaf it copies. */
function programName(program: Expr): string {
  const node = program.node;
  switch (node.kind) {
    case "unary":
    case "binary":
      return node.op;
    case "where":
      return "where";
    case "input":
      return "copy";
    default:
      return "fill";
  }
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** What one call computed and moved, from its arguments alone (cheap: no buffer is read). */
function describe(kernel: string, args: unknown): { op: string; bytes: number; flops: number } {
  switch (kernel) {
    case "elementwise": {
      const a = args as ElementwiseArgs;
      const n = product(a.shape);
      return { op: a.label ?? programName(a.program), bytes: n * 4 * (a.inputs.length + 1), flops: n };
    }
    case "matmul":
    case "matmulEpilogue": {
      const a = args as MatmulArgs;
      const shape = `${a.batch > 1 ? `${a.batch}×` : ""}${a.m}×${a.k}×${a.n}${a.transposeA ? " Aᵀ" : ""}${a.transposeB ? " Bᵀ" : ""}`;
      return { op: shape, bytes: 4 * a.batch * (a.m * a.k + a.k * a.n + a.m * a.n), flops: 2 * a.batch * a.m * a.n * a.k };
    }
    case "reduce": {
      const a = args as ReduceArgs;
      const n = a.outer * a.size * a.inner;
      return { op: a.op, bytes: 4 * (n + a.outer * a.inner), flops: n };
    }
    case "gather":
    case "scatterAdd": {
      const a = args as GatherArgs | ScatterAddArgs;
      const moved = a.outer * a.count * a.inner;
      return { op: "", bytes: 4 * (2 * moved + a.count), flops: kernel === "scatterAdd" ? moved : 0 };
    }
    case "softmax":
    case "logSoftmax":
    case "softmaxBackward":
    case "logSoftmaxBackward": {
      const a = args as RowsArgs;
      const n = a.rows * a.cols;
      return { op: "", bytes: 4 * n * (kernel.endsWith("Backward") ? 3 : 2), flops: n };
    }
    case "adam": {
      const a = args as AdamArgs;
      // reads and writes param, m and v, reads grad
      return { op: "", bytes: 4 * a.size * 7, flops: 10 * a.size };
    }
    default:
      return { op: "", bytes: 0, flops: 0 };
  }
}

function observe(backend: Backend, calls: KernelCall[]): () => void {
  return observeBackend(backend, {
    kernel(name, _optional, args, run) {
      const start = now();
      run();
      const us = (now() - start) * 1000;
      const threads = backend.lastKernelThreads?.() ?? 1;
      calls.push({ kernel: name, ...describe(name, args), us, threads });
    },
  });
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";

/**
 * Runs `fn` and reports where its time went on the active backend: per kernel kind and per op, the calls, total
 * and median µs, bytes and FLOPs (estimated from the arguments), the share of the whole run, and how many calls
 * ran on one thread or several (backends that implement `lastKernelThreads`). The time outside kernels is the
 * framework's own work (tensor objects, the tape, dispatch).
 *
 * `fn` may be async: the report then comes when its promise settles, and counts every kernel call the backend
 * received meanwhile, from anywhere. Profiles nest; each counts the calls made while it runs. The backend is
 * restored exactly as it was when the profile ends, also when `fn` throws (the error is rethrown).
 *
 * @example
 * const report = profile(() => model.trainOnBatch(x, y));
 * console.log(report.format());
 */
export function profile<T>(fn: () => Promise<T>): Promise<ProfileReport<T>>;
export function profile<T>(fn: () => T): ProfileReport<T>;
export function profile<T>(fn: () => T | Promise<T>): ProfileReport<T> | Promise<ProfileReport<T>> {
  const backend = backends.active;
  const calls: KernelCall[] = [];
  const detach = observe(backend, calls);
  const start = now();
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (e) {
    detach();
    throw e;
  }
  if (!isPromiseLike(result)) {
    detach();
    return buildReport(result, backend.name, (now() - start) * 1000, calls);
  }
  return Promise.resolve(result).then(
    (value) => {
      detach();
      return buildReport(value, backend.name, (now() - start) * 1000, calls);
    },
    (e: unknown) => {
      detach();
      throw e;
    },
  );
}
