import { ArgumentError, type Expr, expr, topoOrder } from "@neurite/core";
import { F64, FunctionBuilder, I32, type MemoryImport, Op, Simd, V128, type ValType, encodeModule } from "./binary.js";
import { jsKernel } from "./js-kernel.js";
import { type CompiledKernel, type ElementwiseKernel, type KernelSpec, type Pattern, kernelKey } from "./kernel-spec.js";
import { boundBranches, isNonPositive } from "./ranges.js";
import * as simdMath from "./simd-math.js";
import { type Val, Vec } from "./simd-math.js";
import * as simdMath64 from "./simd-math64.js";

/** Comparison primitives and their f32x4 instructions (a select on one of them is a single bitselect). */
const COMPARE: Partial<Record<string, number>> = { lt: Simd.f32x4Lt, le: Simd.f32x4Le, gt: Simd.f32x4Gt, ge: Simd.f32x4Ge, eq: Simd.f32x4Eq, ne: Simd.f32x4Ne };

/** A constant that is not NaN: max/min against it may use the one-instruction pmax/pmin. */
function plainConst(e: Expr): boolean {
  return e.node.kind === "const" && !Number.isNaN(e.node.value);
}

/** Emits the expressions' computation for one vector of lanes; returns one local per output. */
function emitExprs(v: Vec, outputs: readonly Expr[], leaf: (k: number) => Val, scalar: (j: number) => Val): Val[] {
  const memo = new Map<string, Val>();
  // lane masks of comparisons, so that a select on a comparison is one bitselect
  const masks = new Map<string, Val>();
  const ref = (e: Expr): Val => memo.get(e.key)!;
  const condMask = (c: Expr): Val | undefined => masks.get(c.key);
  for (const out of outputs) {
    for (const e of topoOrder(out)) {
      if (memo.has(e.key)) continue;
      const n = e.node;
      let r: Val;
      switch (n.kind) {
        case "input": r = leaf(n.index); break;
        case "scalar": r = scalar(n.index); break;
        case "const": r = v.f(constValue(n.value)); break;
        case "output": throw new ArgumentError("wasm backend: elementwise programs must not use output(); it is only for derivative formulas");
        case "param": throw new ArgumentError(`wasm backend: expression still holds parameter "${n.name}": bind parameters before compiling`);
        case "where": {
          const mask = condMask(n.cond);
          r = mask !== undefined ? v.sel(ref(n.a), ref(n.b), mask) : simdMath.select(v, ref(n.cond), ref(n.a), ref(n.b));
          break;
        }
        case "unary": r = unary(v, n.op, ref(n.a), isNonPositive(n.a)); break;
        case "binary": {
          const a = ref(n.a);
          if (n.op === "pow" && n.b.node.kind === "const") {
            // small integer powers by multiplication (exact like Math.pow to within one rounding)
            const p = n.b.node.value;
            if (p === 1) { r = a; break; }
            if (p === 2) { r = v.mul(a, a); break; }
          }
          const cmp = COMPARE[n.op];
          if (cmp !== undefined) {
            const mask = v.op(cmp, a, ref(n.b));
            masks.set(e.key, mask);
            r = simdMath.maskToOne(v, mask);
          } else if ((n.op === "max" || n.op === "min") && (plainConst(n.a) || plainConst(n.b))) {
            // pmax(x, c) = x < c ? c : x keeps a NaN x (NaN must come from the variable side)
            const [x, c] = plainConst(n.b) ? [a, ref(n.b)] : [ref(n.b), a];
            r = v.op(n.op === "max" ? Simd.f32x4Pmax : Simd.f32x4Pmin, x, c);
          } else {
            r = binary(v, n.op, a, ref(n.b));
          }
          break;
        }
      }
      memo.set(e.key, r);
    }
  }
  return outputs.map(ref);
}

/** A constant's value, which only a number may be: the module bytes hold nothing the emitter did not encode itself. */
function constValue(value: unknown): number {
  if (typeof value !== "number") throw new ArgumentError(`wasm backend: an expression constant must be a number, got ${typeof value}`);
  return value;
}

/** Refuses any output that is not an expression built by the core, before its key or nodes are read. */
function checkOutputs(spec: KernelSpec): void {
  if (!Array.isArray(spec.outputs)) throw new ArgumentError("wasm backend: a kernel needs an array of output expressions");
  spec.outputs.forEach((e, o) => expr.assertExpr(e, `wasm backend: output ${o} of the kernel`));
}

/** `nonPositive`: the operand is known ≤ 0 or NaN (ranges.ts), so e^x and e^x − 1 take the base-2 reduction. */
function unary(v: Vec, op: string, a: Val, nonPositive: boolean): Val {
  switch (op) {
    // sign-bit operations with a hoisted mask (V8 rebuilds the mask for every f32x4.neg / f32x4.abs)
    case "neg": return v.op(Simd.xor, a, v.i(-0x80000000));
    case "abs": return v.op(Simd.and, a, v.i(0x7fffffff));
    case "sign": return simdMath.sign(v, a);
    case "exp": return nonPositive ? simdMath.expNonPositive(v, a, { base2: true }) : simdMath.exp(v, a);
    case "expm1": return nonPositive ? simdMath.expm1NonPositive(v, a) : simdMath.expm1(v, a);
    case "log": return simdMath.log(v, a);
    case "log1p": return simdMath.log1p(v, a);
    case "sqrt": return v.op(Simd.f32x4Sqrt, a);
    case "tanh": return simdMath.tanh(v, a);
    case "sigmoid": return simdMath.sigmoid(v, a);
    case "erf": return simdMath.erf(v, a);
    case "floor": return v.op(Simd.f32x4Floor, a);
    case "isnan": return simdMath.maskToOne(v, v.op(Simd.f32x4Ne, a, a));
    case "sin": return simdMath64.trig(v, "sin", a);
    case "cos": return simdMath64.trig(v, "cos", a);
    case "tan": return simdMath64.trig(v, "tan", a);
    case "atan": return simdMath64.atan(v, a);
    case "sinh": return simdMath64.sinh(v, a);
    case "cosh": return simdMath64.cosh(v, a);
    case "asinh": return simdMath64.asinh(v, a);
    case "atanh": return simdMath64.atanh(v, a);
    // f32x4.div is correctly rounded; 1/√x in float64 rounds once (in float32, two roundings cost up to 1.5 ulp)
    case "reciprocal": return v.div(v.f(1), a);
    case "rsqrt": return simdMath64.rsqrt(v, a);
    case "exp2": return simdMath64.exp2(v, a);
    case "log2": return simdMath64.log2(v, a);
    // f32x4.nearest rounds ties to even, as torch.round
    case "round": return v.op(Simd.f32x4Nearest, a);
    case "trunc": return v.op(Simd.f32x4Trunc, a);
    default: throw new ArgumentError(`wasm backend: unknown unary primitive "${op}"`);
  }
}

function binary(v: Vec, op: string, a: Val, b: Val): Val {
  switch (op) {
    case "add": return v.add(a, b);
    case "sub": return v.sub(a, b);
    case "mul": return v.mul(a, b);
    case "div": return v.div(a, b);
    case "pow": return simdMath.pow(v, a, b);
    case "min": return v.min(a, b);
    case "max": return v.max(a, b);
    case "lt": return simdMath.maskToOne(v, v.op(Simd.f32x4Lt, a, b));
    case "le": return simdMath.maskToOne(v, v.op(Simd.f32x4Le, a, b));
    case "gt": return simdMath.maskToOne(v, v.op(Simd.f32x4Gt, a, b));
    case "ge": return simdMath.maskToOne(v, v.op(Simd.f32x4Ge, a, b));
    case "eq": return simdMath.maskToOne(v, v.op(Simd.f32x4Eq, a, b));
    case "ne": return simdMath.maskToOne(v, v.op(Simd.f32x4Ne, a, b));
    case "hypot": return simdMath64.hypot(v, a, b);
    default: throw new ArgumentError(`wasm backend: unknown binary primitive "${op}"`);
  }
}

/** The module bytes of a kernel (exported for tests that inspect sizes). */
export function emitKernel(spec: KernelSpec, memory: MemoryImport): Uint8Array {
  checkOutputs(spec);
  const nOut = spec.outputs.length;
  const nIn = spec.inputs.length;
  const outputs = spec.outputs.map(boundBranches);
  const params: ValType[] = [I32, I32];
  for (let i = 0; i < 3 * (nOut + nIn); i++) params.push(I32);
  for (let j = 0; j < spec.scalars; j++) params.push(F64);
  const fb = new FunctionBuilder(params);
  const v = new Vec(fb);
  const ROWS = 0, COLS = 1;
  const opBase = (o: number): number => 2 + 3 * o;
  const ipBase = (k: number): number => 2 + 3 * (nOut + k);
  const scalarParam = (j: number): number => 2 + 3 * (nOut + nIn) + j;

  // scalars: demoted and splat once, in the prologue
  const scalarLocals: Val[] = [];
  for (let j = 0; j < spec.scalars; j++) {
    const l = fb.local(V128);
    fb.prologue.byte(Op.localGet).u32(scalarParam(j)).byte(Op.f32DemoteF64).byte(0xfd).u32(Simd.f32x4Splat).byte(Op.localSet).u32(l);
    scalarLocals.push(l);
  }
  const scalar = (j: number): Val => {
    const l = scalarLocals[j];
    if (l === undefined) throw new Error(`wasm backend: the program reads scalar(${j}) but only ${spec.scalars} scalars were declared`);
    return l;
  };

  // strided operands move lane by lane, so unrolling buys nothing there
  const strided = spec.inputs.includes("s") || spec.outPatterns.includes("s");
  const r = fb.local(I32);
  const lanePtr = fb.local(I32);
  const j = fb.local(I32);
  const n4 = fb.local(I32);
  // per operand: the address of the current row's first element and the running address
  const outRow = spec.outputs.map(() => fb.local(I32));
  const outCur = spec.outputs.map(() => fb.local(I32));
  const inRow = spec.inputs.map(() => fb.local(I32));
  const inCur = spec.inputs.map(() => fb.local(I32));
  const rowValue = spec.inputs.map((p) => (p === "b" ? fb.local(V128) : -1));

  for (let o = 0; o < nOut; o++) fb.get(opBase(o)).set(outRow[o]!);
  for (let k = 0; k < nIn; k++) fb.get(ipBase(k)).set(inRow[k]!);
  fb.get(COLS).i32(-4).op(Op.i32And).set(n4);
  fb.i32(0).set(r);

  fb.op(Op.loop).byte(0x40); // rows
  for (let o = 0; o < nOut; o++) fb.get(outRow[o]!).set(outCur[o]!);
  for (let k = 0; k < nIn; k++) {
    if (spec.inputs[k] === "u") continue;
    fb.get(inRow[k]!).set(inCur[k]!);
    if (spec.inputs[k] === "b") fb.get(inRow[k]!).mem(Simd.load32Splat, 2, 0, true).set(rowValue[k]!);
  }
  fb.i32(0).set(j);

  const leafFor = (vector: boolean, offset = 0) => (k: number): Val => {
    const p = spec.inputs[k];
    if (p === undefined || p === "u") throw new Error(`wasm backend: the program reads input(${k}), which was not passed`);
    if (p === "b") return rowValue[k]!;
    const l = fb.local(V128);
    fb.get(inCur[k]!);
    if (vector && p === "c") {
      fb.mem(Simd.load, 4, offset, true).set(l);
    } else {
      fb.mem(Simd.load32Splat, 2, 0, true).set(l);
      // a strided vector: lanes 1-3 one column stride apart
      if (vector) {
        fb.get(inCur[k]!).set(lanePtr);
        for (let lane = 1; lane < 4; lane++) {
          fb.get(lanePtr).get(ipBase(k) + 2).op(Op.i32Add).set(lanePtr);
          fb.get(lanePtr).get(l).mem(Simd.load32Lane, 2, 0, true).byte(lane).set(l);
        }
      }
    }
    return l;
  };

  /** Stores lanes 0-3 of `value` one column stride apart, from output o's running address. */
  const scatter = (o: number, value: Val): void => {
    fb.get(outCur[o]!).set(lanePtr);
    for (let lane = 0; lane < 4; lane++) {
      if (lane > 0) fb.get(lanePtr).get(opBase(o) + 2).op(Op.i32Add).set(lanePtr);
      fb.get(lanePtr).get(value).mem(Simd.store32Lane, 2, 0, true).byte(lane);
    }
  };

  /** Moves every running address on by `lanes` columns. */
  const advance = (lanes: number): void => {
    const step = (csParam: number, pattern: Pattern): void => {
      if (pattern === "c") fb.i32(lanes * 4);
      else if (lanes === 1) fb.get(csParam);
      else fb.get(csParam).i32(lanes).op(Op.i32Mul);
    };
    for (let o = 0; o < nOut; o++) {
      fb.get(outCur[o]!);
      step(opBase(o) + 2, spec.outPatterns[o]!);
      fb.op(Op.i32Add).set(outCur[o]!);
    }
    for (let k = 0; k < nIn; k++) {
      const p = spec.inputs[k]!;
      if (p === "u" || p === "b") continue;
      fb.get(inCur[k]!);
      step(ipBase(k) + 2, p);
      fb.op(Op.i32Add).set(inCur[k]!);
    }
  };

  {
    // several independent vectors per iteration: transcendental polynomials are latency chains that
    // interleave in the CPU's out-of-order window
    const unroll = strided ? 1 : UNROLL.vectors;
    const nBig = fb.local(I32);
    fb.get(COLS).i32(-4 * unroll).op(Op.i32And).set(nBig);
    for (const [lanes, limit] of (unroll > 1 ? [[4 * unroll, nBig], [4, n4]] : [[4, n4]]) as [number, number][]) {
      fb.op(Op.block).byte(0x40);
      fb.op(Op.loop).byte(0x40);
      fb.get(j).get(limit).op(Op.i32GeS).op(Op.brIf).u32(1);
      const results: Val[][] = [];
      for (let u = 0; u < lanes / 4; u++) results.push(emitExprs(v, outputs, leafFor(true, 16 * u), scalar));
      for (let o = 0; o < nOut; o++) {
        for (let u = 0; u < lanes / 4; u++) {
          if (spec.outPatterns[o] === "c") fb.get(outCur[o]!).get(results[u]![o]!).mem(Simd.store, 4, 16 * u, true);
          else scatter(o, results[u]![o]!);
        }
      }
      advance(lanes);
      fb.get(j).i32(lanes).op(Op.i32Add).set(j);
      fb.op(Op.br).u32(0);
      fb.op(Op.end).op(Op.end);
    }
  }

  // lane by lane: the SIMD loop's tail
  fb.op(Op.block).byte(0x40);
  fb.op(Op.loop).byte(0x40);
  fb.get(j).get(COLS).op(Op.i32GeS).op(Op.brIf).u32(1);
  const results = emitExprs(v, outputs, leafFor(false), scalar);
  for (let o = 0; o < nOut; o++) fb.get(outCur[o]!).get(results[o]!).lane(Simd.f32x4ExtractLane, 0).mem(Op.f32Store, 2, 0);
  advance(1);
  fb.get(j).i32(1).op(Op.i32Add).set(j);
  fb.op(Op.br).u32(0);
  fb.op(Op.end).op(Op.end);

  // next row
  for (let o = 0; o < nOut; o++) fb.get(outRow[o]!).get(opBase(o) + 1).op(Op.i32Add).set(outRow[o]!);
  for (let k = 0; k < nIn; k++) fb.get(inRow[k]!).get(ipBase(k) + 1).op(Op.i32Add).set(inRow[k]!);
  fb.get(r).i32(1).op(Op.i32Add).set(r);
  fb.get(r).get(ROWS).op(Op.i32LtS).op(Op.brIf).u32(0);
  fb.op(Op.end);

  return encodeModule(memory, fb);
}

/** Vectors per iteration of the SIMD loop: four independent polynomial chains fill the out-of-order window (measured 10–25% faster than two). */
export const UNROLL = { vectors: 4 };

const MAX_CACHED = 2048;

/** Compiled kernels per memory, keyed by {@link kernelKey}. */
export class KernelCache {
  private readonly cache = new Map<string, CompiledKernel>();

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly limits: MemoryImport,
  ) {}

  get size(): number {
    return this.cache.size;
  }

  get(spec: KernelSpec): CompiledKernel {
    checkOutputs(spec);
    const key = kernelKey(spec, this.limits.shared);
    const hit = this.cache.get(key);
    if (hit) return hit;
    // a crude bound: programs are few in practice, but a generator of endless distinct programs must not leak
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const bytes = emitKernel(spec, this.limits) as Uint8Array<ArrayBuffer>;
    const instantiate = (module: WebAssembly.Module): ElementwiseKernel =>
      new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports.k as ElementwiseKernel;
    let compiled: CompiledKernel;
    try {
      compiled = { key, fn: instantiate(new WebAssembly.Module(bytes)) };
    } catch (e) {
      // Chrome's main thread compiles only modules up to 4 KB synchronously (a RangeError beyond): run the
      // same computation in JavaScript until the asynchronous compilation is done
      if (!(e instanceof RangeError)) throw e;
      let impl = jsKernel(spec, this.memory);
      compiled = { key, fn: (...args) => impl(...args) };
      WebAssembly.compile(bytes).then((module) => (impl = instantiate(module)), () => undefined);
    }
    this.cache.set(key, compiled);
    return compiled;
  }
}
