/**
 * `@neurite/activations-softmax`: softmax and log-softmax over an axis, with a temperature, stable for every
 * input (the maximum is subtracted first) and with PyTorch's handling of infinite and NaN entries.
 *
 * ```ts
 * import { use } from "@neurite/core";
 * import { softmaxFamily } from "@neurite/activations-softmax";
 * use(softmaxFamily);
 * ```
 * @packageDocumentation
 */
import {
  type ActivationFamily, ArgumentError, type RowsArgs, type Tensor, defineActivation, defineFamily, fmtShape, fused,
  getBackend, input, makeTensor, max, onActiveBackend, scalar, sum, type ParamsOf } from "@neurite/core";

// the package identity saved models record: from package.json at build time (the bundler keeps just these two
// strings); defineFamily gives it, with the family's name, to every member
import { name as PACKAGE, version as VERSION } from "../package.json";

declare module "@neurite/core" {
  interface ActivationRegistry {
    softmax: ParamsOf<typeof softmax>;
    logSoftmax: ParamsOf<typeof logSoftmax>;
  }
}

/** The parameters of both activations. */
export type SoftmaxParams = {
  /** The axis normalised over; negative counts from the end (−1: the last axis). */
  axis: number;
  /** T in softmax(x / T): above 1 flattens, below 1 sharpens. */
  temperature: number;
};

const PARAMS = {
  axis: { default: -1, integer: true, description: "the axis normalised over (−1: the last)" },
  temperature: { default: 1, min: 0, exclusiveMin: true, description: "T in softmax(x / T)" },
} as const;

function resolveAxis(name: string, axis: number, shape: readonly number[]): number {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 0 || a < 0 || a >= rank) {
    const valid = rank === 0 ? "an input with at least one axis" : `an axis in [${-rank}, ${rank - 1}]`;
    throw new ArgumentError(`activation "${name}": parameter axis is ${axis} but the input has shape ${fmtShape(shape)}; use ${valid}`);
  }
  return a;
}

type RowsKernel = "softmax" | "logSoftmax";
type RowsBackwardKernel = "softmaxBackward" | "logSoftmaxBackward";

/** Whether the backend's row kernel applies: it normalises the last axis at temperature 1. */
function rowsKernelApplies(axis: number, shape: readonly number[], p: SoftmaxParams): boolean {
  return axis === shape.length - 1 && p.temperature === 1 && shape[axis]! > 0;
}

/** Runs the active backend's optional row kernel, or returns undefined when it has none. */
function runRows(kind: RowsKernel, x: Tensor): Tensor | undefined {
  const backend = getBackend();
  const kernels = backend.kernels;
  if (!kernels?.[kind]) return undefined;
  const xb = onActiveBackend(x, kind);
  const cols = x.shape[x.rank - 1]!;
  const args: RowsArgs = { x: xb.storage.id, out: backend.alloc(x.size), rows: x.size / cols, cols };
  if (kind === "softmax") kernels.softmax!(args);
  else kernels.logSoftmax!(args);
  if (xb !== x) xb.dispose();
  return makeTensor(backend, args.out, x.shape);
}

function runRowsBackward(kind: RowsBackwardKernel, y: Tensor, g: Tensor): Tensor | undefined {
  const backend = getBackend();
  const kernels = backend.kernels;
  if (!kernels?.[kind]) return undefined;
  const yb = onActiveBackend(y, kind);
  const gb = onActiveBackend(g, kind);
  const cols = y.shape[y.rank - 1]!;
  const args = { y: yb.storage.id, g: gb.storage.id, out: backend.alloc(y.size), rows: y.size / cols, cols };
  if (kind === "softmaxBackward") kernels.softmaxBackward!(args);
  else kernels.logSoftmaxBackward!(args);
  if (yb !== y) yb.dispose();
  if (gb !== g) gb.dispose();
  return makeTensor(backend, args.out, y.shape);
}

// Composed forms. m = max(x) along the axis equals T·max(x/T) for T > 0, so (x − m)/T ≤ 0 never overflows
// exp. max propagates NaN, and a row whose max is ±Infinity gives ∞ − ∞ = NaN: exactly torch's NaN rows.
const SHIFTED_EXP = input(0).sub(input(1)).div(scalar(0)).exp();
const LOG_SOFTMAX = input(0).sub(input(1)).div(scalar(0)).sub(input(2).log());
const SOFTMAX_VJP = input(0).mul(input(1).sub(input(2))).div(scalar(0));
const LOG_SOFTMAX_VJP = input(1).sub(input(0).exp().mul(input(2))).div(scalar(0));

function composedSoftmax(x: Tensor, axis: number, t: number): Tensor {
  const m = max(x, axis, true);
  const e = fused("softmax", SHIFTED_EXP, [x, m], [t]);
  const s = sum(e, axis, true);
  const y = fused("softmax", input(0).div(input(1)), [e, s]);
  for (const u of [m, e, s]) u.dispose();
  return y;
}

function composedLogSoftmax(x: Tensor, axis: number, t: number): Tensor {
  const m = max(x, axis, true);
  const e = fused("logSoftmax", SHIFTED_EXP, [x, m], [t]);
  const s = sum(e, axis, true);
  const y = fused("logSoftmax", LOG_SOFTMAX, [x, m, s], [t]);
  for (const u of [m, e, s]) u.dispose();
  return y;
}

/** float64 softmax of one slice, with torch's rules: a NaN or +∞ entry, or only −∞ entries, give NaN. */
function softmaxSlice(v: readonly number[], t: number, log: boolean): number[] {
  let m = -Infinity;
  for (const a of v) {
    if (Number.isNaN(a)) return v.map(() => NaN);
    if (a > m) m = a;
  }
  if (!Number.isFinite(m)) return v.map(() => NaN);
  const z = v.map((a) => (a - m) / t);
  const s = z.reduce((acc, a) => acc + Math.exp(a), 0);
  return log ? z.map((a) => a - Math.log(s)) : z.map((a) => Math.exp(a) / s);
}

/**
 * softmax(x / T) along `axis`: exp((x − max)/T) / Σ exp((x − max)/T). Rows like [1000, 1001, 1002] and
 * [−1e4, 0, 1e4] come out finite and exact; −Infinity entries give 0; a row holding NaN or +Infinity, or only
 * −Infinity, gives NaN (as torch). The backward is y ⊙ (g − Σ g⊙y) / T. Uses the backend's softmax kernels
 * on the last axis at T = 1.
 */
export const softmax = defineActivation<SoftmaxParams>({
  type: "axis",
  name: "softmax",
  description: "exp(x/T) / Σ exp(x/T) along axis",
  params: PARAMS,
  meta: { range: [0, 1], monotonic: false, smoothAtZero: true },
  forward(x, p) {
    const axis = resolveAxis("softmax", p.axis, x.shape);
    return (rowsKernelApplies(axis, x.shape, p) ? runRows("softmax", x) : undefined) ?? composedSoftmax(x, axis, p.temperature);
  },
  backward(g, y, x, p) {
    const axis = resolveAxis("softmax", p.axis, x.shape);
    const viaKernel = rowsKernelApplies(axis, x.shape, p) ? runRowsBackward("softmaxBackward", y, g) : undefined;
    if (viaKernel) return viaKernel;
    const gy = fused("softmax'", input(0).mul(input(1)), [g, y]);
    const dot = sum(gy, axis, true);
    const dx = fused("softmax'", SOFTMAX_VJP, [y, g, dot], [p.temperature]);
    gy.dispose();
    dot.dispose();
    return dx;
  },
  reference: (slice, p) => softmaxSlice(slice, p.temperature, false),
  // at T = 1 over the last axis this is the plain softmax: a probability loss may take the logits instead
  crossEntropyFromLogits: (p, rank) => p.temperature === 1 && (p.axis === -1 || p.axis === rank - 1),
});

/**
 * log softmax(x / T) along `axis`: (x − max)/T − log Σ exp((x − max)/T); −Infinity entries stay −Infinity.
 * The backward is (g − exp(y)·Σ g) / T.
 */
export const logSoftmax = defineActivation<SoftmaxParams>({
  type: "axis",
  name: "logSoftmax",
  description: "x/T − log Σ exp(x/T) along axis",
  params: PARAMS,
  meta: { range: [-Infinity, 0], monotonic: false, smoothAtZero: true },
  forward(x, p) {
    const axis = resolveAxis("logSoftmax", p.axis, x.shape);
    return (rowsKernelApplies(axis, x.shape, p) ? runRows("logSoftmax", x) : undefined) ?? composedLogSoftmax(x, axis, p.temperature);
  },
  backward(g, y, x, p) {
    const axis = resolveAxis("logSoftmax", p.axis, x.shape);
    const viaKernel = rowsKernelApplies(axis, x.shape, p) ? runRowsBackward("logSoftmaxBackward", y, g) : undefined;
    if (viaKernel) return viaKernel;
    const gs = sum(g, axis, true);
    const dx = fused("logSoftmax'", LOG_SOFTMAX_VJP, [y, g, gs], [p.temperature]);
    gs.dispose();
    return dx;
  },
  reference: (slice, p) => softmaxSlice(slice, p.temperature, true),
});

/** Both activations, registered together with `use(softmaxFamily)`. */
export const softmaxFamily: ActivationFamily = defineFamily({
  name: "softmax", package: PACKAGE, version: VERSION,
  activations: [softmax, logSoftmax],
});
