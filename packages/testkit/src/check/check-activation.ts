import fc from "fast-check";
import {
  type ActivationMeta, type ActivationParams, type ActivationPlugin, type AxisActivation, type BoundActivation, type ParamSpec,
  type ParamValue, type Tensor, activationMeta, activations, applyActivation, backendInstance, bindActivation, deserializeActivation,
  activationProgram, derive, listBackends, memory, mul, scalarActivation, scope, serializeActivation, setBackend, sum, tensor,
  trainableParams, valueAndGradOf,
} from "@neurite/core";
import { compareDetailed } from "../reference/compare.js";
import type { Tolerance } from "../reference/numbers.js";
import { PITFALL_REWRITES, close, float32Steps, pitfallKind, withinContract } from "./float32.js";
import { axisSlices, centralDifference, fmt, gPattern, kinkNear, stepAt } from "./numeric.js";

/** The checks {@link checkActivation} runs. */
export type CheckName =
  | "backend" | "forward" | "gradient" | "reference" | "derivative" | "parity" | "range" | "monotonic" | "smoothAtZero" | "rows"
  | "params" | "serialization" | "trainable" | "advice";

export interface CheckActivationOptions {
  /** Registered backends to check on; default every registered backend. */
  readonly backends?: readonly string[];
  /** Parameter sets to check (each completed with the defaults); default `[{}]`, the defaults only. */
  readonly params?: readonly Readonly<Record<string, ParamValue>>[];
  /** Random inputs drawn by fast-check per property; default 100. */
  readonly numRuns?: number;
  /** Where random and grid inputs lie; default [−8, 8]. Special values (±0, subnormals, ±1e4, ±3.4e38, ±∞, NaN) are added. */
  readonly domain?: readonly [number, number];
  /** fast-check seed, for a reproducible run; default a fixed seed. */
  readonly seed?: number;
  /**
   * Tolerances (the reference README's by default: forward rtol 1e-6 / atol 1e-7, gradient rtol 1e-5 / atol 1e-6
   * scaled by max(1, |g|)): of the float32 contract on backends, and of the formula against `reference`.
   */
  readonly tolerance?: { readonly forward?: Tolerance; readonly grad?: Tolerance };
  /**
   * An independent float64 definition of f (from the paper or PyTorch, not from the declaration), for every
   * parameter set checked: the judge of the formula. Elementwise activations only.
   */
  readonly reference?: (x: number, params: ActivationParams) => number;
  /**
   * An independent float64 definition of an axis activation over one slice (instead of the plugin's own
   * `reference`): the judge of its forward pass and, through finite differences, of its gradient.
   */
  readonly axisReference?: (slice: readonly number[], params: ActivationParams) => number[];
  /** An independent float64 f′, judged against the formula's derivative away from kinks. Elementwise only. */
  readonly derivativeReference?: (x: number, params: ActivationParams) => number;
  /** Make formula advice (float32 losing accuracy against float64: cancellation, intermediate overflow) fail. */
  readonly strict?: boolean;
  /** Where formula advice goes; default `console.warn`. */
  readonly onAdvice?: (advice: string) => void;
  /**
   * A row identity for axis activations: every slice sums to 1 ("sumToOne") or has logsumexp 0
   * ("logSumExpZero"). Default: "sumToOne" for softmax, "logSumExpZero" for logSoftmax, none otherwise.
   */
  readonly rowIdentity?: "sumToOne" | "logSumExpZero" | "none";
}

/** The outcome of one check. */
export interface CheckResult {
  readonly check: CheckName;
  readonly ok: boolean;
  /** The parameters it ran with (every parameter resolved), when it depends on them. */
  readonly params?: ActivationParams;
  readonly backend?: string;
  /** What was compared, or what went wrong, with values. */
  readonly message: string;
  /** Largest absolute error over the compared values. */
  readonly maxAbsErr?: number;
  /** Advice about the formula (ok unless `strict`), not a verdict on a backend. */
  readonly advice?: boolean;
}

/** What {@link checkActivation} returns when every check passed. */
export interface ActivationCheckReport {
  readonly activation: string;
  readonly backends: readonly string[];
  readonly results: readonly CheckResult[];
  /** Formula advice: where float32 step by step loses accuracy against float64, with the usual rewrites. */
  readonly advice: readonly string[];
}

const DEFAULT_FORWARD: Tolerance = { rtol: 1e-6, atol: 1e-7 };
const DEFAULT_GRAD: Tolerance = { rtol: 1e-5, atol: 1e-6 };
/** The derivative against float64 finite differences (whose own error is below 1e-9 here). */
const FD_TOL: Tolerance = { rtol: 1e-6, atol: 1e-6 };

/** Inputs beyond the domain: signed zeros, tiny, subnormal, large and overflowing magnitudes, ±∞, NaN. */
const SPECIALS = [
  0, -0, 1e-7, -1e-7, 1e-30, -1e-30, 1e-40, -1e-40, 88, -88, 89, -89, 1e4, -1e4, 3.4e38, -3.4e38, Infinity, -Infinity, NaN,
].map(Math.fround);

/** Rows that stress axis activations: large equal offsets, a wide spread, −∞, +∞, NaN. */
const EDGE_ROWS = [[1000, 1001, 1002], [-1e4, 0, 1e4], [-Infinity, 0, 1], [Infinity, 0, 1], [NaN, 0, 1]];

class Checker {
  readonly results: CheckResult[] = [];
  readonly advice: string[] = [];
  readonly forwardTol: Tolerance;
  readonly gradTol: Tolerance;
  readonly numRuns: number;
  readonly seed: number;
  readonly domain: readonly [number, number];

  constructor(readonly plugin: ActivationPlugin, readonly options: CheckActivationOptions) {
    this.forwardTol = options.tolerance?.forward ?? DEFAULT_FORWARD;
    this.gradTol = options.tolerance?.grad ?? DEFAULT_GRAD;
    this.numRuns = options.numRuns ?? 100;
    this.seed = options.seed ?? 20240601;
    this.domain = options.domain ?? [-8, 8];
    const [lo, hi] = this.domain;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) {
      throw new Error(`checkActivation: domain must be two finite numbers [lo, hi] with lo < hi, got ${JSON.stringify(this.domain)}`);
    }
  }

  record(r: CheckResult): void {
    this.results.push(r);
  }

  /** Records a comparison of `actual` with `expected` under the reference rule. */
  compare(
    check: CheckName, what: string, ctx: { params?: ActivationParams; backend?: string }, xs: readonly number[] | undefined,
    expected: ArrayLike<number>, actual: ArrayLike<number>, tol: Tolerance, atolAt?: (i: number) => number,
  ): void {
    const c = compareDetailed(expected, actual, tol, atolAt ? { atolAt } : {});
    const where = (i: number): string => (xs ? `x=${fmt(xs[i]!)}` : `[${i}]`);
    const message = c.count === 0
      ? `${what}: ${expected.length} values within rtol ${tol.rtol}, atol ${tol.atol}`
      : `${what}: ${c.count} of ${expected.length} values off; ` +
        c.bad.map((b) => `at ${where(b.index)} expected ${fmt(b.expected)}, got ${fmt(b.actual)}`).join("; ");
    this.record({ check, ok: c.count === 0, ...ctx, message, maxAbsErr: c.maxAbsErr });
  }

  /** Records a float64 comparison (formula against reference): NaN must be NaN, infinities equal, else within tolerance. */
  compareExact(
    check: CheckName, what: string, ctx: { params?: ActivationParams }, xs: readonly number[], expected: readonly number[],
    actual: readonly number[], tolAt: (i: number) => Tolerance,
  ): void {
    const bad = expected.flatMap((e, i) => (close(e, actual[i]!, tolAt(i)) ? [] : [i]));
    const message = bad.length === 0
      ? `${what}: ${expected.length} values agree`
      : `${what}: ${bad.length} of ${expected.length} values off; ` + bad.slice(0, 3).map((i) => `at x=${fmt(xs[i]!)} reference ${fmt(expected[i]!)}, formula ${fmt(actual[i]!)}`).join("; ");
    this.record({ check, ok: bad.length === 0, ...ctx, message });
  }

  /** Records a backend's values against the float32 contract (see float32.ts). */
  contract(
    check: CheckName, what: string, ctx: { params?: ActivationParams; backend?: string }, xs: readonly number[], exact: readonly number[],
    step32: readonly number[], actual: ArrayLike<number>, tolAt: (i: number) => Tolerance,
  ): void {
    const bad = exact.flatMap((e, i) => (withinContract(e, step32[i]!, actual[i]!, tolAt(i)) ? [] : [i]));
    let maxAbsErr = 0;
    exact.forEach((e, i) => {
      if (Number.isFinite(e) && Number.isFinite(actual[i]!)) maxAbsErr = Math.max(maxAbsErr, Math.abs(actual[i]! - e));
    });
    const tol = tolAt(0);
    const message = bad.length === 0
      ? `${what}: ${exact.length} values no farther from float64 than float32 step by step, within rtol ${tol.rtol}, atol ${tol.atol}`
      : `${what}: ${bad.length} of ${exact.length} values off (a backend bug: farther from float64 than float32 step by step); ` +
        bad.slice(0, 3).map((i) => `at x=${fmt(xs[i]!)} expected ${fmt(exact[i]!)} (float32 steps ${fmt(step32[i]!)}), got ${fmt(actual[i]!)}`).join("; ");
    this.record({ check, ok: bad.length === 0, ...ctx, message, maxAbsErr });
  }

  /** Records formula advice: ok unless the options ask for strict. */
  advise(message: string, ctx: { params?: ActivationParams }): void {
    this.advice.push(message);
    this.record({ check: "advice", ok: !this.options.strict, advice: true, ...ctx, message });
  }

  /** Runs fn, recording a failed check instead of letting an exception abort the others. */
  guard<T>(check: CheckName, ctx: { params?: ActivationParams; backend?: string }, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.record({ check, ok: false, ...ctx, message: `threw ${errorText(e)}` });
      return undefined;
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function linspace(lo: number, hi: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

function isArgumentError(e: unknown): e is Error {
  return e instanceof Error && e.name === "ArgumentError";
}

/** Registers the plugin under its name for the check (deserialization looks it up), and undoes that after. */
function registerForCheck(plugin: ActivationPlugin): () => void {
  const existing = activations.has(plugin.name) ? activations.get(plugin.name) : undefined;
  if (existing === plugin) return () => {};
  activations.register(plugin, { replace: true });
  return () => {
    if (existing) activations.register(existing, { replace: true });
    else activations.unregister(plugin.name);
  };
}

/** Weight tensors for trainable parameters at their bound values, one shared value each. */
function defaultWeights(bound: BoundActivation): Record<string, Tensor> {
  const ws: Record<string, Tensor> = {};
  for (const k of trainableParams(bound.plugin)) ws[k] = tensor([bound.params[k] as number]);
  return ws;
}

/** y and dx = ∂/∂x Σ g·f(x) on the active backend. */
function evaluate(bound: BoundActivation, xs: readonly number[], shape: readonly number[], g: readonly number[]): { y: Float32Array; dx: Float32Array } {
  return scope(() => {
    const x = tensor(Float32Array.from(xs), shape);
    const gt = tensor(Float32Array.from(g), shape);
    const ws = defaultWeights(bound);
    const y = applyActivation(x, bound, ws).dataSync();
    const { grads } = valueAndGradOf(() => sum(mul(applyActivation(x, bound, ws), gt)), [x]);
    return { y, dx: grads[0]!.dataSync() };
  });
}

function allowance(v: number, tol: Tolerance): number {
  return Math.max(tol.rtol * Math.abs(v), tol.atol);
}

function inRange(y: number, range: readonly [number, number], tol: Tolerance): boolean {
  return y >= range[0] - allowance(range[0], tol) && y <= range[1] + allowance(range[1], tol);
}

/** The first pair (by x) where y decreases by more than the tolerance, if any. */
function firstDecrease(xs: readonly number[], ys: ArrayLike<number>, tol: Tolerance): [number, number, number, number] | undefined {
  const order = xs.map((_, i) => i).filter((i) => Number.isFinite(xs[i]!) && !Number.isNaN(ys[i]!)).sort((a, b) => xs[a]! - xs[b]!);
  for (let k = 1; k < order.length; k++) {
    const i = order[k - 1]!;
    const j = order[k]!;
    if (ys[j]! < ys[i]! - allowance(ys[i]!, tol)) return [xs[i]!, ys[i]!, xs[j]!, ys[j]!];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// (5) parameter validation

function invalidValues(spec: ParamSpec): { value: unknown; why: string }[] {
  const d = spec.default;
  const out: { value: unknown; why: string }[] = [];
  if (typeof d === "number") {
    if (spec.min !== undefined) out.push({ value: spec.exclusiveMin ? spec.min : spec.min - Math.max(1, Math.abs(spec.min)), why: `below the minimum ${spec.min}` });
    if (spec.max !== undefined) out.push({ value: spec.exclusiveMax ? spec.max : spec.max + Math.max(1, Math.abs(spec.max)), why: `above the maximum ${spec.max}` });
    if (spec.integer) out.push({ value: d + 0.5, why: "not an integer" });
    if (spec.choices) {
      const nums = spec.choices as readonly number[];
      out.push({ value: Math.max(...nums) + 1.5, why: `not one of ${nums.join(", ")}` });
    }
    out.push({ value: NaN, why: "NaN" }, { value: "1", why: "a string for a number" });
  } else if (typeof d === "string") {
    if (spec.choices) out.push({ value: `${d}-not-a-choice`, why: "not one of the choices" });
    out.push({ value: 1, why: "a number for a string" });
  } else {
    out.push({ value: "true", why: "a string for a boolean" });
  }
  return out;
}

function checkParamValidation(c: Checker): void {
  const specs = c.plugin.params as Readonly<Record<string, ParamSpec>>;
  const cases = Object.entries(specs).flatMap(([k, spec]) => invalidValues(spec).map((v) => ({ param: k, ...v })));
  cases.push({ param: "notAParameterOfThis", value: 1, why: "an unknown parameter" });
  const failures: string[] = [];
  for (const { param, value, why } of cases) {
    try {
      bindActivation(c.plugin, { [param]: value });
      failures.push(`${param} = ${JSON.stringify(value) ?? String(value)} (${why}) was accepted`);
    } catch (e) {
      if (!isArgumentError(e)) failures.push(`${param} = ${String(value)} (${why}) threw ${errorText(e)}, expected an ArgumentError`);
      else if (!e.message.includes(param)) failures.push(`${param} = ${String(value)} (${why}): the ArgumentError does not name the parameter: "${e.message}"`);
    }
  }
  c.record({
    check: "params",
    ok: failures.length === 0,
    message: failures.length === 0 ? `${cases.length} invalid parameter values rejected with an ArgumentError naming the parameter` : failures.join("; "),
  });
}

// ---------------------------------------------------------------------------------------------------------
// (6) serialization

function checkSerialization(c: Checker, bound: BoundActivation): void {
  const ctx = { params: { ...bound.params } };
  c.guard("serialization", ctx, () => {
    const s = serializeActivation(bound);
    const back = deserializeActivation(JSON.parse(JSON.stringify(s)) as typeof s);
    const problems: string[] = [];
    if (s.package !== c.plugin.package || s.version !== c.plugin.version || s.name !== c.plugin.name) {
      problems.push(`serialized identity ${s.package}/${s.name}@${s.version} differs from the plugin's ${c.plugin.package}/${c.plugin.name}@${c.plugin.version}`);
    }
    if (back.plugin !== c.plugin) problems.push(`deserialized to a different plugin (${back.plugin.package}/${back.plugin.name})`);
    for (const k of new Set([...Object.keys(bound.params), ...Object.keys(back.params)])) {
      if (bound.params[k] !== back.params[k]) problems.push(`parameter ${k}: ${String(bound.params[k])} came back as ${String(back.params[k])}`);
    }
    c.record({ check: "serialization", ok: problems.length === 0, ...ctx, message: problems.length ? problems.join("; ") : "serializeActivation → JSON → deserializeActivation gives equal parameters" });
  });
}

// ---------------------------------------------------------------------------------------------------------
// elementwise activations

/**
 * Indices where float32 step by step is off from the float64 formula beyond the tolerance: the formula's own
 * pitfall. Not where the exact value itself overflows float32 (selu at 3.4e38): no formula could do better.
 */
function illConditioned(exact: readonly number[], step32: readonly number[], tolAt: (i: number) => Tolerance): boolean[] {
  return exact.map((e, i) => Number.isFinite(Math.fround(e)) && !close(e, step32[i]!, tolAt(i)));
}

/** One advice line: where float32 step by step loses accuracy, by how much, why, and the usual rewrites. */
function adviceText(what: string, xs: readonly number[], exact: readonly number[], step32: readonly number[], ill: readonly boolean[]): string | undefined {
  const at = ill.flatMap((bad, i) => (bad ? [i] : []));
  if (at.length === 0) return undefined;
  const worst = [...at].sort((i, j) => relErr(exact[j]!, step32[j]!) - relErr(exact[i]!, step32[i]!)).slice(0, 3);
  const why = [...new Set(at.map((i) => pitfallKind(exact[i]!, step32[i]!)))].map((k) => PITFALL_REWRITES[k]).join("; ");
  return `${what}: float32 step by step loses accuracy against float64 at ${at.length} of ${xs.length} inputs, e.g. ` +
    worst.map((i) => `x=${fmt(xs[i]!)}: float32 steps give ${fmt(step32[i]!)}, float64 ${fmt(exact[i]!)}`).join("; ") + `. ${why}`;
}

function relErr(e: number, a: number): number {
  if (!Number.isFinite(a)) return Infinity;
  return Math.abs(a - e) / Math.max(Math.abs(e), 1e-30);
}

async function checkElementwise(c: Checker, bound: BoundActivation, backends: readonly string[]): Promise<void> {
  const params = { ...bound.params };
  const meta = activationMeta(bound);
  const sc = scalarActivation(bound);
  const f = (x: number): number => sc.f(x);
  const [lo, hi] = c.domain;
  const arbX = fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true });
  const random = fc.sample(arbX, { numRuns: c.numRuns, seed: c.seed });
  const inDomain = [...linspace(lo, hi, 161).map(Math.fround), ...random, 0].filter((x) => x >= lo && x <= hi);
  const xs = [...inDomain, ...SPECIALS];
  const g = gPattern(xs.length);
  const gradAtol = (i: number): number => c.gradTol.atol * Math.max(1, Math.abs(g[i]!));
  const gradTolAt = (i: number): Tolerance => ({ rtol: c.gradTol.rtol, atol: gradAtol(i) });

  // the formula in float64 (rounded once), and step by step in float32 with correctly rounded primitives
  const prog = activationProgram(bound);
  const weights = prog.trainable.map((k) => bound.params[k] as number);
  const forward32 = float32Steps(prog.program);
  const derivative32 = float32Steps(prog.dx ?? derive(prog.program, 0));
  const exactY = xs.map((x) => sc.f(x));
  const exactDx = xs.map((x, i) => g[i]! * sc.df(x));
  const stepY = xs.map((x) => forward32([x, ...weights], prog.scalars));
  const stepDx = xs.map((x, i) => Math.fround(g[i]! * derivative32([x, ...weights], prog.scalars, stepY[i])));

  // the formula against the author's independent reference: a wrong formula, not only a wrong backend
  const reference = c.options.reference;
  if (reference) {
    c.compareExact("reference", "the formula in float64 against the independent reference", { params }, xs, xs.map((x) => reference(x, params)), exactY, () => c.forwardTol);
  }
  const derivativeReference = c.options.derivativeReference;
  if (derivativeReference) {
    // away from kinks, where conventions for the one-sided slopes differ
    const smoothXs = xs.filter((x) => !Number.isFinite(x) || !kinkNear(f, x));
    c.compareExact("reference", "the formula's derivative in float64 against the independent derivativeReference, away from kinks", { params }, smoothXs,
      smoothXs.map((x) => derivativeReference(x, params)), smoothXs.map((x) => sc.df(x)), () => c.gradTol);
  }

  // float64 symbolic derivative against float64 finite differences, away from kinks
  const smooth = inDomain.filter((x) => !kinkNear(f, x) && Number.isFinite(f(x)));
  c.compare("derivative", `df against central differences of f at ${smooth.length} points away from kinks`, { params }, smooth,
    smooth.map((x) => centralDifference(f, x)), smooth.map((x) => sc.df(x)), FD_TOL);

  // formula pitfalls: where float32 itself cannot follow float64, advice (failure only when strict)
  const illY = illConditioned(exactY, stepY, () => c.forwardTol);
  const illDx = illConditioned(exactDx, stepDx, gradTolAt);
  const where = `"${c.plugin.name}"${Object.keys(params).length ? ` with ${JSON.stringify(params)}` : ""}`;
  for (const text of [adviceText(`${where}, f(x)`, xs, exactY, stepY, illY), adviceText(`${where}, g·f′(x)`, xs, exactDx, stepDx, illDx)]) {
    if (text) c.advise(text, { params });
  }

  // the declared facts, on the float64 function
  checkMeta(c, meta, params, f, inDomain, xs);

  const wellConditioned = xs.flatMap((_, i) => (illY[i] || illDx[i] ? [] : [i]));
  const pick = (a: ArrayLike<number>): number[] => wellConditioned.map((i) => a[i]!);
  const first: { backend: string; y: Float32Array; dx: Float32Array }[] = [];
  for (const backend of backends) {
    const ctx = { params, backend };
    await setBackend(backend);
    const out = c.guard("forward", ctx, () => evaluate(bound, xs, [xs.length], g));
    if (!out) continue;
    c.contract("forward", "f(x) against the float32 contract", ctx, xs, exactY, stepY, out.y, () => c.forwardTol);
    c.contract("gradient", "∂/∂x Σ g·f(x) against the float32 contract", ctx, xs, exactDx, stepDx, out.dx, gradTolAt);
    const base = first[0];
    if (base) {
      // where the formula is ill-conditioned in float32, backends may differ within the contract
      const ys = pick(xs);
      c.compare("parity", `f(x) against backend ${base.backend} (${ys.length} well-conditioned inputs)`, ctx, ys, pick(base.y), pick(out.y), c.forwardTol);
      c.compare("parity", `gradient against backend ${base.backend}`, ctx, ys, pick(base.dx), pick(out.dx), c.gradTol, (k) => gradAtol(wellConditioned[k]!));
    }
    first.push({ backend, ...out });
    checkRangeProperty(c, bound, meta, ctx, arbX, out.y, xs, stepY);
    checkTrainable(c, bound, ctx, inDomain);
  }
}

/** Range, monotonicity and smoothness at 0 as declared, on the float64 function. */
function checkMeta(c: Checker, meta: ActivationMeta, params: ActivationParams, f: (x: number) => number, inDomain: readonly number[], xs: readonly number[]): void {
  const finite = xs.filter((x) => Number.isFinite(x));
  const outside = finite.filter((x) => !inRange(f(x), meta.range, c.forwardTol));
  c.record({
    check: "range", ok: outside.length === 0, params,
    message: outside.length === 0
      ? `float64 f(x) within the declared range [${fmt(meta.range[0])}, ${fmt(meta.range[1])}] at ${finite.length} finite points`
      : `float64 f(x) outside the declared range [${fmt(meta.range[0])}, ${fmt(meta.range[1])}]: ${outside.slice(0, 3).map((x) => `f(${fmt(x)}) = ${fmt(f(x))}`).join(", ")}`,
  });
  if (meta.monotonic) {
    const dense = [...linspace(c.domain[0], c.domain[1], 2001), ...inDomain];
    const dec = firstDecrease(dense, dense.map(f), c.forwardTol);
    c.record({
      check: "monotonic", ok: !dec, params,
      message: dec ? `declared monotonic, but f(${fmt(dec[0])}) = ${fmt(dec[1])} > f(${fmt(dec[2])}) = ${fmt(dec[3])}` : "float64 f non-decreasing on a fine grid of the domain",
    });
  }
  const kink = kinkNear(f, 0);
  c.record({
    check: "smoothAtZero", ok: kink !== meta.smoothAtZero, params,
    message: kink === meta.smoothAtZero
      ? `declared smoothAtZero: ${meta.smoothAtZero}, but the one-sided slopes at 0 ${kink ? "differ (a kink)" : "agree (no kink)"}`
      : `smoothAtZero: ${meta.smoothAtZero} agrees with the one-sided slopes at 0`,
  });
}

/** Range and monotonicity on a backend: the fixed points, then fast-check arrays of random inputs. */
function checkRangeProperty(
  c: Checker, bound: BoundActivation, meta: ActivationMeta, ctx: { params: ActivationParams; backend: string },
  arbX: fc.Arbitrary<number>, y: Float32Array, xs: readonly number[], stepY: readonly number[],
): void {
  // where float32 step by step overflows, the contract allows its NaN / ±Infinity (advice, not a range violation)
  const outside = xs.map((x, i) => [x, y[i]!, i] as const)
    .filter(([x, v, i]) => Number.isFinite(x) && Number.isFinite(stepY[i]!) && !inRange(v, meta.range, c.forwardTol));
  const fixedProblem = outside.length ? `f(${fmt(outside[0]![0])}) = ${fmt(outside[0]![1])}` : undefined;
  const run = fc.check(
    fc.property(fc.array(arbX, { minLength: 1, maxLength: 32 }), (arr) => {
      const ys = scope(() => applyActivation(tensor(Float32Array.from(arr)), bound, defaultWeights(bound)).dataSync());
      ys.forEach((v, i) => {
        if (!inRange(v, meta.range, c.forwardTol)) throw new Error(`f(${fmt(arr[i]!)}) = ${fmt(v)} is outside [${fmt(meta.range[0])}, ${fmt(meta.range[1])}]`);
      });
      const dec = meta.monotonic ? firstDecrease(arr, ys, c.forwardTol) : undefined;
      if (dec) throw new Error(`declared monotonic, but f(${fmt(dec[0])}) = ${fmt(dec[1])} > f(${fmt(dec[2])}) = ${fmt(dec[3])}`);
    }),
    { numRuns: c.numRuns, seed: c.seed },
  );
  const what = meta.monotonic ? "range and monotonicity" : "range";
  const problem = fixedProblem ? `outside the declared range: ${fixedProblem}` : run.failed ? (run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance)) : undefined;
  c.record({
    check: "range", ok: !problem, ...ctx,
    message: problem ?? `${what} hold on ${xs.length} fixed points and ${c.numRuns} random arrays (fast-check seed ${c.seed})`,
  });
}

/** (7) trainable parameters: the weight gradient against finite differences in the parameter. */
function checkTrainable(c: Checker, bound: BoundActivation, ctx: { params: ActivationParams; backend: string }, inDomain: readonly number[]): void {
  const plugin = bound.plugin;
  for (const k of trainableParams(plugin)) {
    c.guard("trainable", ctx, () => {
      const spec = (plugin.params as Readonly<Record<string, ParamSpec>>)[k]!;
      const channels = spec.perChannel ? 3 : 1;
      const v0 = bound.params[k] as number;
      const w = Array.from({ length: channels }, (_, ch) => v0 + 0.05 * ch);
      const m = Math.floor(inDomain.length / channels);
      const xs = inDomain.slice(0, m * channels);
      const shape = channels > 1 ? [m, channels] : [m];
      const g = gPattern(xs.length);
      const dw = scope(() => {
        const x = tensor(Float32Array.from(xs), shape);
        const wt = tensor(Float32Array.from(w), [channels]);
        const ws = { ...defaultWeights(bound), [k]: wt };
        const { grads } = valueAndGradOf(() => sum(mul(applyActivation(x, bound, ws), tensor(Float32Array.from(g), shape))), [x, wt]);
        return grads[1]!.dataSync();
      });
      // Σ g·∂f/∂w per channel by central differences in w, in float64
      const expected = new Array<number>(channels).fill(0);
      const scale = new Array<number>(channels).fill(0);
      for (let ch = 0; ch < channels; ch++) {
        const h = stepAt(w[ch]!, 1e-6);
        const plus = scalarActivation(bindActivation(plugin, { ...bound.params, [k]: w[ch]! + h }));
        const minus = scalarActivation(bindActivation(plugin, { ...bound.params, [k]: w[ch]! - h }));
        xs.forEach((x, i) => {
          if (i % channels !== ch) return;
          const term = (g[i]! * (plus.f(x) - minus.f(x))) / (2 * h);
          expected[ch]! += term;
          scale[ch]! += Math.abs(term);
        });
      }
      c.compare("trainable", `∂/∂${k} Σ g·f(x) against finite differences in ${k} (${channels} channel${channels > 1 ? "s" : ""})`, ctx, undefined,
        expected, dw, { rtol: 1e-5, atol: 1e-6 }, (i) => 1e-6 * Math.max(1, scale[i]!));
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// axis activations

async function checkAxis(c: Checker, bound: BoundActivation, backends: readonly string[]): Promise<void> {
  const plugin = bound.plugin as AxisActivation;
  const params = { ...bound.params };
  const sliceReference = c.options.axisReference ?? ((slice: readonly number[], p: ActivationParams) => plugin.reference(slice, p));
  const meta = activationMeta(bound);
  const axisParam = typeof params.axis === "number" ? params.axis : -1;
  const rank = Math.max(2, axisParam >= 0 ? axisParam + 1 : -axisParam);
  const shape = Array.from({ length: rank }, (_, d) => [3, 5, 4, 2][d % 4]!);
  const axis = axisParam < 0 ? axisParam + rank : axisParam;
  const size = shape.reduce((a, b) => a * b, 1);
  const [lo, hi] = c.domain;
  const xs = fc.sample(fc.float({ min: Math.fround(lo), max: Math.fround(hi), noNaN: true, noDefaultInfinity: true }), { numRuns: size, seed: c.seed });
  const g = gPattern(size);
  const slices = axisSlices(shape, axis);
  const reference = (values: readonly number[]): number[] => {
    const out = new Array<number>(values.length);
    for (const s of slices) {
      const r = sliceReference(s.map((i) => values[i]!), bound.params);
      s.forEach((i, k) => (out[i] = r[k]!));
    }
    return out;
  };
  const expectedY = reference(xs);
  // ∂/∂x_j Σ g·f(x) by central differences of the float64 reference, slice by slice
  const expectedDx = new Array<number>(size).fill(0);
  for (const s of slices) {
    const row = s.map((i) => xs[i]!);
    s.forEach((j, k) => {
      const h = stepAt(row[k]!, 1e-6);
      const plus = [...row];
      const minus = [...row];
      plus[k]! += h;
      minus[k]! -= h;
      const rp = sliceReference(plus, bound.params);
      const rm = sliceReference(minus, bound.params);
      expectedDx[j] = s.reduce((acc, i, q) => acc + (g[i]! * (rp[q]! - rm[q]!)) / (2 * h), 0);
    });
  }
  const gradAtol = (i: number): number => c.gradTol.atol * Math.max(1, ...slices.find((s) => s.includes(i))!.map((q) => Math.abs(g[q]!)));

  // edge rows along the axis: each lies in one slice of length 3
  const edgeShape = Array.from({ length: rank }, () => 1);
  edgeShape[axis] = 3;
  edgeShape[axis === 0 ? 1 : 0] = EDGE_ROWS.length;
  const edgeX = new Array<number>(EDGE_ROWS.length * 3);
  axisSlices(edgeShape, axis).forEach((s, r) => s.forEach((i, k) => (edgeX[i] = EDGE_ROWS[r]![k]!)));
  const edgeExpected = new Array<number>(edgeX.length);
  axisSlices(edgeShape, axis).forEach((s) => {
    const r = sliceReference(s.map((i) => edgeX[i]!), bound.params);
    s.forEach((i, k) => (edgeExpected[i] = r[k]!));
  });

  const identity = c.options.rowIdentity ?? (plugin.name === "softmax" ? "sumToOne" : plugin.name === "logSoftmax" ? "logSumExpZero" : "none");
  const first: { backend: string; y: Float32Array; dx: Float32Array }[] = [];
  for (const backend of backends) {
    const ctx = { params, backend };
    await setBackend(backend);
    const out = c.guard("forward", ctx, () => evaluate(bound, xs, shape, g));
    if (!out) continue;
    c.compare("forward", `f along axis ${axisParam} of ${JSON.stringify(shape)} against the float64 reference`, ctx, undefined, expectedY, out.y, c.forwardTol);
    c.compare("gradient", "∂/∂x Σ g·f(x) against central differences of the float64 reference", ctx, undefined, expectedDx, out.dx, c.gradTol, gradAtol);
    const edgeY = c.guard("forward", ctx, () => scope(() => applyActivation(tensor(Float32Array.from(edgeX), edgeShape), bound).dataSync()));
    if (edgeY) c.compare("forward", `edge rows ${JSON.stringify(EDGE_ROWS.map((r) => r.map(fmt)))} against the float64 reference`, ctx, undefined, edgeExpected, edgeY, c.forwardTol);
    if (identity !== "none") {
      const off = slices.map((s) => {
        const v = s.map((i) => out.y[i]!);
        const m = Math.max(...v);
        return identity === "sumToOne" ? v.reduce((a, b) => a + b, 0) - 1 : m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
      });
      const worst = Math.max(...off.map(Math.abs));
      c.record({
        check: "rows", ok: worst <= 1e-6 * Math.max(1, shape[axis]!), ...ctx, maxAbsErr: worst,
        message: `${identity === "sumToOne" ? "Σ y − 1" : "logsumexp(y)"} over ${slices.length} slices: largest |error| ${fmt(worst)}`,
      });
    }
    const outside = Array.from(out.y).filter((v) => !inRange(v, meta.range, c.forwardTol));
    c.record({
      check: "range", ok: outside.length === 0, ...ctx,
      message: outside.length ? `outputs outside [${fmt(meta.range[0])}, ${fmt(meta.range[1])}]: ${outside.slice(0, 3).map(fmt).join(", ")}` : `${size} outputs within [${fmt(meta.range[0])}, ${fmt(meta.range[1])}]`,
    });
    const base = first[0];
    if (base) {
      c.compare("parity", `f against backend ${base.backend}`, ctx, undefined, base.y, out.y, c.forwardTol);
      c.compare("parity", `gradient against backend ${base.backend}`, ctx, undefined, base.dx, out.dx, c.gradTol, gradAtol);
    }
    first.push({ backend, ...out });
  }
}

// ---------------------------------------------------------------------------------------------------------

/**
 * Checks an activation plugin the way the first-party ones are checked: on every backend (default: every
 * registered one), for every parameter set,
 * (1) the formula and its derivative in float64 against the independent `reference` / `derivativeReference`
 *     when given (the judge of the formula),
 * (2) every backend's forward pass and gradient against the float32 contract (the judge of the backend): no
 *     farther from the float64 formula than the formula evaluated step by step in float32 with correctly
 *     rounded primitives, plus the tolerance (see float32.ts),
 * (3) formula advice where float32 step by step itself loses accuracy (cancellation, intermediate overflow),
 *     naming the inputs and the usual rewrites; a failure only with `strict`,
 * (4) the symbolic derivative against float64 finite differences (away from kinks), parity between backends
 *     where the formula is well-conditioned, the declared range, monotonicity and smoothness at 0 on
 *     fast-check inputs, rejection of invalid parameter values with an ArgumentError naming the parameter, a
 *     serialization round trip and gradients of trainable parameters. Axis activations are checked against
 *     `axisReference` (or their own `reference`), plus their row identity.
 *
 * Throws one Error listing every failed check with its values; returns the report (with the advice) when all
 * pass. The previously active backend is active again afterwards.
 *
 * @example
 * use(cpuBackend, wasmBackend);
 * await checkActivation(elu, { params: [{}, { alpha: 2 }], reference: (x, p) => (x > 0 ? x : (p.alpha as number) * Math.expm1(x)) });
 */
export async function checkActivation(plugin: ActivationPlugin, options: CheckActivationOptions = {}): Promise<ActivationCheckReport> {
  const c = new Checker(plugin, options);
  const requested = [...(options.backends ?? listBackends())];
  if (requested.length === 0) {
    throw new Error(`checkActivation("${plugin.name}"): no backend is registered; call use(cpuBackend) from @neurite/backend-cpu first`);
  }
  const previous = memory().backend?.name;
  const unregister = registerForCheck(plugin);
  const backends: string[] = [];
  try {
    for (const b of requested) {
      try {
        await backendInstance(b);
        backends.push(b);
      } catch (e) {
        c.record({ check: "backend", ok: false, backend: b, message: `backend "${b}" could not be created: ${errorText(e)}` });
      }
    }
    checkParamValidation(c);
    for (const given of options.params ?? [{}]) {
      let bound: BoundActivation;
      try {
        bound = bindActivation(plugin, given);
      } catch (e) {
        c.record({ check: "params", ok: false, message: `parameter set ${JSON.stringify(given)} was rejected: ${errorText(e)}` });
        continue;
      }
      checkSerialization(c, bound);
      if (plugin.type === "elementwise") await checkElementwise(c, bound, backends);
      else await checkAxis(c, bound, backends);
    }
  } finally {
    unregister();
    if (previous !== undefined) await setBackend(previous);
  }
  if (c.advice.length > 0) {
    const report = c.options.onAdvice ?? ((text: string) => console.warn(text));
    for (const text of c.advice) report(`checkActivation advice: ${text}`);
  }
  const failed = c.results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const lines = failed.map((r) => {
      const where = [r.backend ? `on ${r.backend}` : "", r.params && Object.keys(r.params).length ? `with ${JSON.stringify(r.params)}` : ""].filter(Boolean).join(" ");
      return `  ✗ ${r.check}${where ? ` ${where}` : ""}: ${r.message}`;
    });
    throw new Error(`checkActivation("${plugin.name}"): ${failed.length} of ${c.results.length} checks failed\n${lines.join("\n")}`);
  }
  return { activation: plugin.name, backends, results: c.results, advice: c.advice };
}
