import {
  type BoundActivation, type ParamValue, type Tensor, activations, applyActivation, bindActivation,
  memory, mul, scope, setBackend, sum, tensor, trainableParams, valueAndGradOf,
} from "@neurite/core";
import { compareDetailed, describeMismatches } from "./compare.js";
import { TORCH_OPS } from "./names.js";
import { type Tolerance, decodeArray, decodeNumber } from "./numbers.js";
import type { CaseResult, RunOptions } from "./types.js";

/** The reference README's tolerances, used where a file's meta gives none. */
export const DEFAULT_TOLERANCES = {
  forward: { rtol: 1e-6, atol: 1e-7 },
  grad: { rtol: 1e-5, atol: 1e-6 },
} as const satisfies Record<string, Tolerance>;

interface Override {
  readonly key: string;
  readonly forward?: Tolerance;
  readonly grad?: Tolerance;
}

interface FileTolerances {
  readonly forward: Tolerance;
  readonly grad: Tolerance;
  readonly overrides: readonly Override[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function readTolerance(v: unknown, fallback: Tolerance, what: string): Tolerance {
  if (v === undefined) return fallback;
  if (!isObject(v) || typeof v.rtol !== "number" || typeof v.atol !== "number") {
    throw new Error(`${what} must be { rtol, atol } numbers, got ${JSON.stringify(v)}`);
  }
  return { rtol: v.rtol, atol: v.atol };
}

function readTolerances(meta: unknown): FileTolerances {
  const rec = isObject(meta) && isObject(meta.recommended_tolerances) ? meta.recommended_tolerances : {};
  const forward = readTolerance(rec.forward, DEFAULT_TOLERANCES.forward, "recommended_tolerances.forward");
  const grad = readTolerance(rec.grad, DEFAULT_TOLERANCES.grad, "recommended_tolerances.grad");
  const overrides: Override[] = [];
  if (isObject(rec.overrides)) {
    for (const [key, o] of Object.entries(rec.overrides)) {
      if (!isObject(o)) continue;
      overrides.push({
        key,
        ...(o.forward !== undefined ? { forward: readTolerance(o.forward, forward, `override ${key}.forward`) } : {}),
        ...(o.grad !== undefined ? { grad: readTolerance(o.grad, grad, `override ${key}.grad`) } : {}),
      });
    }
  }
  return { forward, grad, overrides };
}

/**
 * Whether an override key applies to a case: the key is the case id or a prefix of it before "/"
 * (`gelu[approximate=none]` for `gelu[approximate=none]/grid`), or `op` / `op[param=value,…]` matching
 * the case's op and parameters.
 */
export function overrideApplies(key: string, c: { id: string; op: string; params: Json }): boolean {
  if (c.id === key || c.id.startsWith(`${key}/`)) return true;
  const m = /^([^[\]]+)(?:\[(.*)\])?$/.exec(key);
  if (!m || m[1] !== c.op) return false;
  if (!m[2]) return true;
  return m[2].split(",").every((kv) => {
    const [k = "", v = ""] = kv.split("=").map((s) => s.trim());
    const p = c.params[k];
    if (p === undefined) return false;
    if (typeof p === "string" && !["NaN", "Infinity", "-Infinity", "-0"].includes(p)) return p === v;
    try {
      return Number(v) === decodeNumber(p) || (typeof p === "number" && String(p) === v);
    } catch {
      return false;
    }
  });
}

/** A case ready to run: everything decoded and validated once, then run on each backend. */
interface ReadyCase {
  readonly bound: BoundActivation;
  readonly kind: "elementwise" | "last_axis";
  readonly x: number[];
  readonly shape: number[];
  readonly y64?: number[];
  readonly g?: number[];
  readonly grad64?: number[];
  readonly dydx64?: number[];
  /** Trainable parameters passed as weight tensors (PReLU's weight: one number, or one per channel). */
  readonly weights: { name: string; values: number[]; shape: number[] }[];
  readonly gradWeight64?: { values: number[]; shape: number[] };
  readonly altY: ReadonlyMap<number, number[]>;
  readonly altGrad: ReadonlyMap<number, number[]>;
  readonly forwardTol: Tolerance;
  readonly gradTol: Tolerance;
}

type Prepared = { status: "ready"; c: ReadyCase } | { status: "fail" | "unsupported"; message: string };

class CaseError extends Error {
  constructor(readonly status: "fail" | "unsupported", message: string) {
    super(message);
  }
}
const malformed = (m: string): never => {
  throw new CaseError("fail", `malformed case: ${m}`);
};
const unsupported = (m: string): never => {
  throw new CaseError("unsupported", m);
};

function readShape(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && (d as number) >= 0)) return malformed(`${what} must be an array of non-negative integers, got ${JSON.stringify(v)}`);
  return v as number[];
}

function readNumbers(c: Json, key: string, length?: number): number[] | undefined {
  if (c[key] === undefined) return undefined;
  let values: number[];
  try {
    values = decodeArray(c[key], key);
  } catch (e) {
    return malformed((e as Error).message);
  }
  if (length !== undefined && values.length !== length) malformed(`${key} has ${values.length} values, x has ${length}`);
  return values;
}

function readAlternatives(v: unknown, size: number): { y: Map<number, number[]>; grad: Map<number, number[]> } {
  const y = new Map<number, number[]>();
  const grad = new Map<number, number[]>();
  if (v === undefined) return { y, grad };
  if (!isObject(v)) return malformed(`alternatives must be an object {flatIndex: {y?, grad?}}, got ${JSON.stringify(v)}`);
  for (const [k, alt] of Object.entries(v)) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= size) malformed(`alternatives key ${JSON.stringify(k)} is not a flat index in [0, ${size})`);
    if (!isObject(alt)) return malformed(`alternatives[${k}] must be an object, got ${JSON.stringify(alt)}`);
    try {
      if (alt.y !== undefined) y.set(i, decodeArray(alt.y, `alternatives[${k}].y`));
      if (alt.grad !== undefined) grad.set(i, decodeArray(alt.grad, `alternatives[${k}].grad`));
    } catch (e) {
      malformed((e as Error).message);
    }
  }
  return { y, grad };
}

function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A registered activation's parameters under their own names. */
function ownParams(name: string): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.keys(activations.get(name).params).map((k) => [k, k]));
}

/** Decodes and validates one case; unknown ops, parameters and kinds are unsupported, malformed cases fail. */
function prepare(c: Json, id: string, op: string, tolerances: FileTolerances): ReadyCase {
  // PyTorch's names map through the table; any other op is a registered activation's own name (a user's plugin)
  const table = TORCH_OPS[op] ?? (activations.has(op) ? { name: op, params: ownParams(op) } : undefined) ??
    unsupported(`unknown op "${op}": neither one of PyTorch's (${Object.keys(TORCH_OPS).join(", ")}) nor a registered activation; register the plugin that provides it (conformance --plugin MODULE)`);
  const rawParams = c.params ?? {};
  if (!isObject(rawParams)) return malformed(`params must be an object, got ${JSON.stringify(rawParams)}`);
  if (!activations.has(table.name)) unsupported(`activation "${table.name}" (PyTorch's ${op}) is not registered; register its family with use(...)`);
  const plugin = activations.get(table.name);
  const kindRaw = c.kind ?? (plugin.type === "axis" ? "last_axis" : "elementwise");
  if (kindRaw !== "elementwise" && kindRaw !== "last_axis") unsupported(`unknown kind ${JSON.stringify(kindRaw)} (known: elementwise, last_axis)`);
  const kind = kindRaw as "elementwise" | "last_axis";
  if ((kind === "last_axis") !== (plugin.type === "axis")) unsupported(`kind "${kind}" does not fit "${plugin.name}", which is ${plugin.type === "axis" ? "an axis" : "an elementwise"} activation`);

  const x = readNumbers(c, "x") ?? malformed("no x");
  const shape = c.shape === undefined ? [x.length] : readShape(c.shape, "shape");
  if (sizeOfShape(shape) !== x.length) malformed(`shape ${JSON.stringify(shape)} holds ${sizeOfShape(shape)} values, x has ${x.length}`);

  // parameters, through the name table
  const trainable = trainableParams(plugin);
  const ours: Record<string, ParamValue> = {};
  const weights: ReadyCase["weights"] = [];
  for (const [k, v] of Object.entries(rawParams)) {
    if (k === "weight_shape" && "weight" in table.params) continue;
    if (!(k in table.params)) unsupported(`unknown parameter "${k}" for ${op} (known: ${Object.keys(table.params).join(", ") || "none"})`);
    const name = table.params[k];
    if (name === null || name === undefined) continue;
    if (trainable.includes(name)) {
      const values = Array.isArray(v) ? readNumbers({ w: v }, "w")! : [readParamNumber(v, k)];
      const wShape = Array.isArray(v) ? (rawParams.weight_shape === undefined ? [values.length] : readShape(rawParams.weight_shape, "params.weight_shape")) : [1];
      if (sizeOfShape(wShape) !== values.length) malformed(`params.weight_shape ${JSON.stringify(wShape)} holds ${sizeOfShape(wShape)} values, weight has ${values.length}`);
      weights.push({ name, values, shape: wShape });
      ours[name] = values[0] ?? 0;
    } else if (typeof v === "string" && !["NaN", "Infinity", "-Infinity", "-0"].includes(v)) {
      ours[name] = v;
    } else if (typeof v === "boolean") {
      ours[name] = v;
    } else {
      ours[name] = readParamNumber(v, k);
    }
  }
  let bound: BoundActivation;
  try {
    bound = bindActivation(plugin, ours);
  } catch (e) {
    return unsupported(`parameters ${JSON.stringify(rawParams)} not supported by "${plugin.name}": ${(e as Error).message}`);
  }
  for (const name of trainable) {
    if (!weights.some((w) => w.name === name)) weights.push({ name, values: [bound.params[name] as number], shape: [1] });
  }

  const y64 = readNumbers(c, "y64", x.length);
  const g = readNumbers(c, "g", x.length);
  const grad64 = readNumbers(c, "grad64", x.length);
  const dydx64 = readNumbers(c, "dydx64", x.length);
  const gw = readNumbers(c, "grad_weight64");
  if (grad64 && !g) malformed("grad64 is given without g, the upstream gradient it was computed with");
  let gradWeight64: ReadyCase["gradWeight64"];
  if (gw) {
    if (!g) malformed("grad_weight64 is given without g");
    if (weights.length !== 1) unsupported(`grad_weight64 needs exactly one trainable parameter, "${plugin.name}" has ${weights.length}`);
    const gwShape = c.grad_weight_shape === undefined ? weights[0]!.shape : readShape(c.grad_weight_shape, "grad_weight_shape");
    if (sizeOfShape(gwShape) !== gw.length) malformed(`grad_weight_shape ${JSON.stringify(gwShape)} holds ${sizeOfShape(gwShape)} values, grad_weight64 has ${gw.length}`);
    if (gwShape.join(",") !== weights[0]!.shape.join(",") && sizeOfShape(gwShape) !== sizeOfShape(weights[0]!.shape)) {
      malformed(`grad_weight_shape ${JSON.stringify(gwShape)} does not match the weight's shape ${JSON.stringify(weights[0]!.shape)}`);
    }
    gradWeight64 = { values: gw, shape: gwShape };
  }
  if (!y64 && !grad64 && !dydx64 && !gradWeight64) malformed("nothing to check: the case has none of y64, grad64, dydx64, grad_weight64");
  const alts = readAlternatives(c.alternatives, x.length);

  let forwardTol = tolerances.forward;
  let gradTol = tolerances.grad;
  for (const o of tolerances.overrides) {
    if (!overrideApplies(o.key, { id, op, params: rawParams })) continue;
    forwardTol = o.forward ?? forwardTol;
    gradTol = o.grad ?? gradTol;
  }
  return {
    bound, kind, x, shape, weights, altY: alts.y, altGrad: alts.grad, forwardTol, gradTol,
    ...(y64 ? { y64 } : {}), ...(g ? { g } : {}), ...(grad64 ? { grad64 } : {}), ...(dydx64 ? { dydx64 } : {}),
    ...(gradWeight64 ? { gradWeight64 } : {}),
  };
}

function readParamNumber(v: unknown, key: string): number {
  try {
    return decodeNumber(v);
  } catch {
    return malformed(`parameter ${key} must be a number, got ${JSON.stringify(v)}`);
  }
}

/** For x of `xShape` and w broadcast against it (NumPy rules): the flat index of w each x element reads. */
function broadcastIndex(xShape: readonly number[], wShape: readonly number[]): (i: number) => number {
  const lead = xShape.length - wShape.length;
  const wStrides: number[] = [];
  let s = 1;
  for (let d = wShape.length - 1; d >= 0; d--) {
    wStrides[d] = wShape[d] === 1 ? 0 : s;
    s *= wShape[d]!;
  }
  return (i) => {
    let j = 0;
    let rest = i;
    for (let d = xShape.length - 1; d >= 0; d--) {
      const n = xShape[d]!;
      const wd = d - lead;
      if (wd >= 0) j += (rest % n) * wStrides[wd]!;
      rest = Math.floor(rest / n);
    }
    return j;
  };
}

/** Runs one ready case on the active backend: every section it holds, all problems collected. */
function runCase(c: ReadyCase): { problems: string[]; maxAbsErr: number | null; maxRelErr: number | null } {
  const problems: string[] = [];
  let maxAbsErr: number | null = null;
  let maxRelErr: number | null = null;
  const note = (what: string, expected: readonly number[], actual: ArrayLike<number>, tol: Tolerance, atolAt?: (i: number) => number, alts?: (i: number) => readonly number[] | undefined, xs?: readonly number[]): void => {
    const r = compareDetailed(expected, actual, tol, { ...(atolAt ? { atolAt } : {}), ...(alts ? { alternatives: alts } : {}) });
    if (Number.isFinite(r.maxAbsErr)) {
      maxAbsErr = Math.max(maxAbsErr ?? 0, r.maxAbsErr);
      maxRelErr = Math.max(maxRelErr ?? 0, r.maxRelErr);
    }
    const m = describeMismatches(what, r, expected.length, xs);
    if (m) problems.push(m);
  };
  const elementwise = c.kind === "elementwise";
  scope(() => {
    const x = tensor(Float32Array.from(c.x), c.shape);
    const ws: Record<string, Tensor> = {};
    for (const w of c.weights) ws[w.name] = tensor(Float32Array.from(w.values), w.shape);
    const vjp = (g: readonly number[], withWeights: boolean): Tensor[] => {
      const gt = tensor(Float32Array.from(g), c.shape);
      const wrt = withWeights ? [x, ...c.weights.map((w) => ws[w.name]!)] : [x];
      return valueAndGradOf(() => sum(mul(applyActivation(x, c.bound, ws), gt)), wrt).grads;
    };
    if (c.y64) {
      note("y", c.y64, applyActivation(x, c.bound, ws).dataSync(), c.forwardTol, undefined, (i) => c.altY.get(i), c.x);
    }
    if (c.g && (c.grad64 || c.gradWeight64)) {
      const g = c.g;
      const grads = vjp(g, c.gradWeight64 !== undefined);
      if (c.grad64) {
        const atolAt = elementwise ? (i: number) => c.gradTol.atol * Math.max(1, Math.abs(g[i]!)) : undefined;
        note("grad", c.grad64, grads[0]!.dataSync(), c.gradTol, atolAt, (i) => c.altGrad.get(i), c.x);
      }
      if (c.gradWeight64) {
        // a weight's gradient is a sum over the elements that share it: atol scales with Σ |g·x| over them
        const w = c.weights[0]!;
        const index = broadcastIndex(c.shape, w.shape);
        const scale = new Array<number>(w.values.length).fill(0);
        c.x.forEach((xi, i) => {
          const t = Math.abs(g[i]! * xi);
          if (Number.isFinite(t)) scale[index(i)]! += t;
        });
        note("grad_weight", c.gradWeight64.values, grads[1]!.dataSync(), c.gradTol, (j) => c.gradTol.atol * Math.max(1, scale[j] ?? 0));
      }
    }
    if (c.dydx64) {
      // the derivative itself (g = 1); alternatives given for the VJP convert by dividing by g_i
      const alts = (i: number): readonly number[] | undefined => {
        const a = c.altGrad.get(i);
        const gi = c.g?.[i];
        return a && gi !== undefined && gi !== 0 && Number.isFinite(gi) ? a.map((v) => v / gi) : a;
      };
      note("dydx", c.dydx64, vjp(c.x.map(() => 1), false)[0]!.dataSync(), c.gradTol, undefined, alts, c.x);
    }
  });
  return { problems, maxAbsErr, maxRelErr };
}

/**
 * Runs the activation cases (`cases[]`) of a reference file on every backend in `options.backends`: each
 * case is reported as pass, fail or unsupported on each backend (and unsupported on each backend in
 * `options.unavailable`), never dropped. Families must be
 * registered beforehand (`use(reluFamily, …)`); an op whose activation is not registered is unsupported.
 */
export async function runActivationFile(json: unknown, options: RunOptions): Promise<CaseResult[]> {
  const file = options.file;
  const doc = isObject(json) ? json : {};
  const cases = Array.isArray(doc.cases) ? (doc.cases as unknown[]) : [];
  let tolerances: FileTolerances;
  try {
    tolerances = readTolerances(doc.meta);
  } catch (e) {
    return [{ file, id: "meta.recommended_tolerances", backend: "*", status: "fail", maxAbsErr: null, maxRelErr: null, message: (e as Error).message, op: "(meta)" }];
  }
  const prepared = cases.map((raw, index): { id: string; op: string; p: Prepared } => {
    const c = isObject(raw) ? raw : undefined;
    const id = typeof c?.id === "string" ? c.id : `cases[${index}]`;
    const op = typeof c?.op === "string" ? c.op : "(no op)";
    if (!c) return { id, op, p: { status: "fail", message: `malformed case: cases[${index}] is not an object` } };
    if (typeof c.op !== "string") return { id, op, p: { status: "fail", message: "malformed case: no op" } };
    try {
      return { id, op, p: { status: "ready", c: prepare(c, id, c.op, tolerances) } };
    } catch (e) {
      if (e instanceof CaseError) return { id, op, p: { status: e.status, message: e.message } };
      return { id, op, p: { status: "fail", message: `could not read the case: ${(e as Error).message}` } };
    }
  });

  const byBackend = new Map<string, CaseResult[]>();
  const unavailable = options.unavailable ?? {};
  const backends = [...options.backends, ...Object.keys(unavailable).filter((b) => !options.backends.includes(b))];
  const previous = memory().backend?.name;
  try {
    for (const backend of backends) {
      const out: CaseResult[] = [];
      byBackend.set(backend, out);
      let setupError = unavailable[backend] === undefined ? undefined : `backend "${backend}" is not available: ${unavailable[backend]}`;
      if (!setupError) {
        try {
          await setBackend(backend);
        } catch (e) {
          setupError = `backend "${backend}" is not available: ${(e as Error).message}`;
        }
      }
      for (const { id, op, p } of prepared) {
        const base = { file, id, backend, op };
        if (setupError) out.push({ ...base, status: "unsupported", maxAbsErr: null, maxRelErr: null, message: setupError });
        else if (p.status !== "ready") out.push({ ...base, status: p.status, maxAbsErr: null, maxRelErr: null, message: p.message });
        else {
          try {
            const r = runCase(p.c);
            out.push({ ...base, status: r.problems.length ? "fail" : "pass", maxAbsErr: r.maxAbsErr, maxRelErr: r.maxRelErr, message: r.problems.join("; ") });
          } catch (e) {
            out.push({ ...base, status: "fail", maxAbsErr: null, maxRelErr: null, message: `threw ${(e as Error).name}: ${(e as Error).message}` });
          }
        }
      }
    }
  } finally {
    if (previous !== undefined) await setBackend(previous);
  }
  // case-major order: every backend's result for a case together
  return prepared.flatMap((_, i) => backends.map((b) => byBackend.get(b)![i]!));
}
