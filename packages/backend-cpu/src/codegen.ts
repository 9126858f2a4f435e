import { ArgumentError, type Expr, type LeafSource, PRIMITIVE_HELPERS, expr, exprArity, exprToJs } from "@neurite/core";

// Kernels are generated JavaScript: exprToJs turns the expression into straight-line float64 code from
// core's single definition of every primitive, and the layout code around it is specialised here.

/** Flat layout: every operand is contiguous or a broadcast scalar, so one index i serves all. */
export type FlatKernel = (X: readonly Float32Array[], O: readonly number[], S: readonly number[], out: Float32Array, outOffset: number, n: number) => void;

/** Strided layout: an odometer over the outer axes and an inner loop with per-operand strides. */
export type StridedKernel = (
  X: readonly Float32Array[], O: readonly number[], ST: readonly (readonly number[])[], S: readonly number[],
  out: Float32Array, outOffset: number, outStrides: readonly number[], shape: readonly number[],
) => void;

/** Row epilogue of matmul: out[o + j] = f(out[o + j] + bias[b + j]) for j < len. */
/** f(out + bias) over one row segment; z = out + bias is also stored into `pre` when given (the backward pass reads it). */
export type EpilogueKernel = (out: Float32Array, o: number, len: number, bias: Float32Array | null, b: number, S: readonly number[], pre: Float32Array | null) => void;

const MAX_CACHED = 1024;
const cache = new Map<string, unknown>();

function cached<T>(key: string, build: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit as T;
  // a crude bound: programs are few in practice, but a generator of endless distinct programs must not leak
  if (cache.size >= MAX_CACHED) cache.clear();
  const fn = build();
  cache.set(key, fn);
  return fn;
}

function instantiate<T>(body: string): T {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated kernels are the point of this backend
  const make = new Function("M", body) as (m: typeof PRIMITIVE_HELPERS) => T;
  return make(PRIMITIVE_HELPERS);
}

/** Scalars read once into locals before the loop. */
function scalarLocals(count: number): string {
  let s = "";
  for (let j = 0; j < count; j++) s += `const s${j} = S[${j}] ?? NaN;\n`;
  return s;
}

function countScalars(program: Expr): number {
  return exprArity(program).scalars;
}

/** Checked when a kernel is built; the cache key holds the input count, so a cached kernel passed it. */
function checkInputs(program: Expr, given: number): void {
  const needed = exprArity(program).inputs;
  if (needed > given) throw new ArgumentError(`cpu elementwise: the program reads input(${needed - 1}) but only ${given} inputs were given`);
}

function noOutput(): string {
  throw new ArgumentError("cpu backend: elementwise programs must not use output(); it is only for derivative formulas");
}

/**
 * `pattern[k]` is 1 when input k is contiguous and 0 when it is one value broadcast everywhere; broadcast
 * values are read once before the loop.
 */
export function flatKernel(program: Expr, pattern: readonly (0 | 1)[]): FlatKernel {
  // before the key is read: a look-alike object could name a cached kernel or reach the generator
  expr.assertExpr(program, "cpu elementwise: the program");
  return cached(`${program.key}|flat|${pattern.join("")}`, () => {
    checkInputs(program, pattern.length);
    let pre = "";
    for (let k = 0; k < pattern.length; k++) {
      pre += `const x${k} = X[${k}], o${k} = O[${k}];\n`;
      if (pattern[k] === 0) pre += `const b${k} = x${k}[o${k}];\n`;
    }
    const leaf: LeafSource = {
      input: (k) => (pattern[k] === 1 ? `x${k}[o${k} + i]` : `b${k}`),
      scalar: (j) => `s${j}`,
      output: noOutput,
    };
    const { statements, result } = exprToJs(program, leaf);
    const body = `return function flat(X, O, S, out, oo, n) {
${pre}${scalarLocals(countScalars(program))}for (let i = 0; i < n; i++) {
${statements}
out[oo + i] = ${result};
}
};`;
    return instantiate<FlatKernel>(body);
  });
}

/** General strided kernel for `inputs` inputs over any rank ≥ 1 (axes already collapsed). */
export function stridedKernel(program: Expr, inputs: number): StridedKernel {
  expr.assertExpr(program, "cpu elementwise: the program");
  return cached(`${program.key}|strided|${inputs}`, () => {
    checkInputs(program, inputs);
    let pre = "";
    let init = "let po = oo;\n";
    let rowStart = "let qo = po;\n";
    let step = "qo += iso;\n";
    let carry = "po += OS[d];\n";
    let rewind = "po -= OS[d] * (len - 1);\n";
    for (let k = 0; k < inputs; k++) {
      pre += `const x${k} = X[${k}], st${k} = ST[${k}], is${k} = st${k}[last];\n`;
      init += `let p${k} = O[${k}];\n`;
      rowStart += `let q${k} = p${k};\n`;
      step += `q${k} += is${k};\n`;
      carry += `p${k} += st${k}[d];\n`;
      rewind += `p${k} -= st${k}[d] * (len - 1);\n`;
    }
    const leaf: LeafSource = {
      input: (k) => `x${k}[q${k}]`,
      scalar: (j) => `s${j}`,
      output: noOutput,
    };
    const { statements, result } = exprToJs(program, leaf);
    const body = `return function strided(X, O, ST, S, out, oo, OS, shape) {
const rank = shape.length, last = rank - 1, inner = shape[last], iso = OS[last];
let rows = 1;
for (let d = 0; d < last; d++) rows *= shape[d];
const idx = new Array(rank).fill(0);
${pre}${scalarLocals(countScalars(program))}${init}for (let r = 0; r < rows; r++) {
${rowStart}for (let j = 0; j < inner; j++) {
${statements}
out[qo] = ${result};
${step}}
for (let d = last - 1; d >= 0; d--) {
const len = shape[d];
if (++idx[d] < len) {
${carry}break;
}
idx[d] = 0;
${rewind}}
}
};`;
    return instantiate<StridedKernel>(body);
  });
}

/** Bias add plus an optional activation of input(0), applied to one output row segment in place. */
export function epilogueKernel(activation: Expr | undefined, hasBias: boolean, keepPre: boolean): EpilogueKernel {
  if (activation !== undefined) expr.assertExpr(activation, "cpu matmulEpilogue: the activation");
  return cached(`${activation?.key ?? "identity"}|epilogue|${hasBias ? 1 : 0}|${keepPre ? 1 : 0}`, () => {
    const v = "z";
    let statements = "";
    let result = v;
    let scalars = "";
    if (activation) {
      const input = (k: number): string => {
        if (k !== 0) throw new ArgumentError(`cpu matmulEpilogue: the activation may read only input(0), not input(${k})`);
        return v;
      };
      ({ statements, result } = exprToJs(activation, { input, scalar: (j) => `s${j}`, output: noOutput }));
      scalars = scalarLocals(countScalars(activation));
    }
    const body = `return function epilogue(out, o, len, bias, b, S, pre) {
${scalars}for (let j = 0; j < len; j++) {
const z = ${hasBias ? "out[o + j] + bias[b + j]" : "out[o + j]"};
${keepPre ? "pre[o + j] = z;" : ""}
${statements}
out[o + j] = ${result};
}
};`;
    return instantiate<EpilogueKernel>(body);
  });
}
