import { describe, expect, it } from "vitest";
import {
  BINARY_OPS, type Backend, type BinaryOp, type Expr, UNARY_OPS, type UnaryOp, activationProgram, binary, compileScalar, defineActivation,
  derive, input, mapExpr, output, resolveActivation, scalar, stridesOf, unary, use,
} from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { backends, mismatches, on, random } from "./helpers.js";

use(reluFamily, sigmoidFamily, smoothFamily);
const { cpu, wasm } = await backends();

// special values: NaN, ±∞, ±0, subnormals, the float32 exp overflow edge, huge and tiny magnitudes
const SPECIAL = [
  NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754943508222875e-38, 88, -88, 88.72, 89, -89, 1e4, -1e4,
  3.4e38, -3.4e38, 1e-7, -1e-7, 0.5, -0.5, 1, -1, 2, -2, 2.5, -2.5, 0.84375, 3.9, -3.9, 6, -6, 9.5, -9.5, 20, -20, 0.01, 1.5,
].map(Math.fround);

function run(b: Backend, program: Expr, xs: readonly Float32Array[], scalars: readonly number[] = []): Float32Array {
  const n = xs[0]!.length;
  return on(b, xs, n, (ids, out) =>
    b.elementwise({ program, inputs: ids.map((id) => ({ id, offset: 0, strides: [1] })), scalars, shape: [n], out: { id: out, offset: 0, strides: [1] } }),
  );
}

/** float64 evaluation (core's definition of every primitive), rounded to float32. */
function reference(program: Expr, xs: readonly Float32Array[], scalars: readonly number[] = []): Float32Array {
  const f = compileScalar(program);
  return xs[0]!.map((_, i) => f(xs.map((x) => x[i]!), scalars));
}

describe("primitives in isolation", () => {
  it.each(UNARY_OPS.map((op) => [op]))("%s over special values matches core's float64 semantics", (op: UnaryOp) => {
    const x = new Float32Array(SPECIAL);
    const program = unary(op, input(0));
    expect(mismatches(run(wasm, program, [x]), reference(program, [x]), 1e-6, 1e-7, (i) => `${op}(${x[i]})`)).toEqual([]);
  });

  it.each(UNARY_OPS.map((op) => [op]))("%s over 20 000 random values agrees with the cpu backend", (op: UnaryOp) => {
    const wide = op === "log" || op === "sqrt" || op === "log1p" ? random(20000, 7, -2, 50) : random(20000, 7, -12, 12);
    const program = unary(op, input(0));
    expect(mismatches(run(wasm, program, [wide]), run(cpu, program, [wide]), 1e-6, 1e-7, (i) => `${op}(${wide[i]})`)).toEqual([]);
  });

  it.each(BINARY_OPS.map((op) => [op]))("%s over every pair of special values", (op: BinaryOp) => {
    const vals = [NaN, Infinity, -Infinity, 0, -0, 1e-40, 0.5, -0.5, 1, -1, 2, -2, 3, -3, 2.5, -2.5, 88, 1e4, -1e4].map(Math.fround);
    const a = new Float32Array(vals.length ** 2);
    const b = new Float32Array(vals.length ** 2);
    vals.forEach((u, i) => vals.forEach((v, j) => ((a[i * vals.length + j] = u), (b[i * vals.length + j] = v))));
    const program = binary(op, input(0), input(1));
    expect(mismatches(run(wasm, program, [a, b]), reference(program, [a, b]), 1e-6, 1e-7, (i) => `${op}(${a[i]}, ${b[i]})`)).toEqual([]);
  });

  // sigmoid's e^−|x| uses the base-2 reduction, whose error grows with |x|, and expm1 (elu, tanh) a fitted
  // polynomial: sweep the whole range densely against float64
  const sweep = new Float32Array(400_001).map((_, i) => -100 + (200 * i) / 400_000);
  const dense: [string, Expr, (x: number) => number][] = [
    ["sigmoid", input(0).sigmoid(), (x) => 1 / (1 + Math.exp(-x))],
    ["expm1", input(0).expm1(), Math.expm1],
    ["tanh", input(0).tanh(), Math.tanh],
  ];
  it.each(dense)("%s over a dense sweep of [−100, 100] stays within the forward tolerance of float64", (name, program, f) => {
    expect(mismatches(run(wasm, program, [sweep]), sweep.map(f), 1e-6, 1e-7, (i) => `${name}(${sweep[i]})`)).toEqual([]);
  });

  it("pow over random bases and exponents keeps float32 accuracy for large results", () => {
    const a = random(5000, 3, -8, 8);
    const b = random(5000, 4, -30, 30).map((v, i) => (i % 3 === 0 ? Math.round(v) : v));
    const program = binary("pow", input(0), input(1));
    expect(mismatches(run(wasm, program, [a, b]), reference(program, [a, b]), 1e-6, 1e-7, (i) => `pow(${a[i]}, ${b[i]})`)).toEqual([]);
  });

  it("select treats NaN and 0 as false, and scalars are run-time values", () => {
    const c = new Float32Array([NaN, 0, -0, 1, -2, Infinity]);
    const program = input(0).where(scalar(0), scalar(1));
    expect(Array.from(run(wasm, program, [c], [7, -3]))).toEqual([-3, -3, -3, 7, 7, 7]);
    expect(Array.from(run(wasm, program, [c], [0.25, 4]))).toEqual([4, 4, 4, 0.25, 0.25, 0.25]);
  });
});

describe("activations from their declarations", () => {
  const elementwise = [...reluFamily.activations, ...sigmoidFamily.activations, ...smoothFamily.activations].filter((p) => p.type === "elementwise");
  const x = new Float32Array([...SPECIAL, ...random(4000, 11, -12, 12), ...random(1000, 12, -100, 100)]);
  const g = random(x.length, 13, -2, 2);

  it.each(elementwise.map((p) => [p.name]))("%s forward and backward agree with the cpu backend", (name: string) => {
    const spec = resolveActivation(name);
    const prog = activationProgram(spec);
    const trainable = prog.trainable.map((k) => new Float32Array(x.length).fill(spec.params[k] as number));
    const fwd = prog.program;
    const atolF = name === "gelu" ? 5e-7 : 1e-7;
    expect(mismatches(run(wasm, fwd, [x, ...trainable], prog.scalars), run(cpu, fwd, [x, ...trainable], prog.scalars), 1e-6, atolF, (i) => `${name}(${x[i]})`)).toEqual([]);
    // the backward program the core builds: g · f'(x), with y as an extra input where the hand derivative uses it
    const n = 1 + trainable.length;
    const d = mapExpr(prog.dx ?? derive(fwd, 0), (e) => (e.node.kind === "output" ? input(n) : undefined));
    const bwd = input(n + 1).mul(d);
    const yCpu = run(cpu, fwd, [x, ...trainable], prog.scalars);
    const ins = [x, ...trainable, yCpu, g];
    expect(mismatches(run(wasm, bwd, ins, prog.scalars), run(cpu, bwd, ins, prog.scalars), 1e-5, (i) => 1e-6 * Math.max(1, Math.abs(g[i]!)), (i) => `${name}'(${x[i]})`)).toEqual([]);
  });

  it("an activation declared at run time compiles to its own kernel, forward and backward", () => {
    // a made-up smooth activation: x·σ(1.702x) + 0.1·log1p(x²)·tanh(x)
    const custom = defineActivation<Record<never, never>>({
      name: "runtimeCustom", family: "custom", package: "test", version: "0.0.0", params: {}, description: "test",
      meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: true },
      formula: (v) => v.mul(v.mul(1.702).sigmoid()).add(v.square().log1p().mul(v.tanh()).mul(0.1)),
    });
    const prog = custom.formula(input(0), {});
    // moderate inputs: x² of a huge x overflows float32 lanes where the cpu backend's float64 does not
    const xm = x.filter((v) => Math.abs(v) <= 100 || Number.isNaN(v));
    const gm = g.subarray(0, xm.length);
    expect(mismatches(run(wasm, prog, [xm]), run(cpu, prog, [xm]), 1e-6, 1e-7)).toEqual([]);
    const bwd = input(1).mul(derive(prog, 0));
    expect(mismatches(run(wasm, bwd, [xm, gm]), run(cpu, bwd, [xm, gm]), 1e-5, 1e-6 * 2)).toEqual([]);
    expect(output().key).toBe("y");
  });
});

describe("layouts", () => {
  function both(program: Expr, shape: number[], views: { data: Float32Array; offset: number; strides: number[] }[], outStrides = stridesOf(shape)): [Float32Array, Float32Array] {
    const n = shape.reduce((a, b) => a * b, 1);
    const res = [cpu, wasm].map((b) => {
      const ids = views.map((v) => b.upload(v.data));
      const outSize = outStrides.reduce((s, st, d) => s + st * (shape[d]! - 1), 0) + 1;
      const out = b.alloc(Math.max(outSize, n));
      b.elementwise({ program, inputs: views.map((v, k) => ({ id: ids[k]!, offset: v.offset, strides: v.strides })), scalars: [0.5], shape, out: { id: out, offset: 0, strides: outStrides } });
      const r = b.read(out);
      ids.forEach((id) => b.free(id));
      b.free(out);
      return r;
    });
    return [res[0]!, res[1]!];
  }
  const prog = input(0).mul(input(1).sigmoid()).add(scalar(0));

  it("broadcasts rows, columns and scalars", () => {
    const [c, w] = both(prog, [7, 5, 9], [
      { data: random(63, 1), offset: 0, strides: [9, 0, 1] },
      { data: random(5, 2), offset: 0, strides: [0, 1, 0] },
    ]);
    expect(mismatches(w, c, 1e-6, 1e-7)).toEqual([]);
    const [c2, w2] = both(prog, [4, 130], [
      { data: random(1, 3), offset: 0, strides: [0, 0] },
      { data: random(520, 4), offset: 0, strides: [130, 1] },
    ]);
    expect(mismatches(w2, c2, 1e-6, 1e-7)).toEqual([]);
  });

  it("reads transposed and offset views, and writes strided outputs", () => {
    const [c, w] = both(prog, [6, 11], [
      { data: random(80, 5), offset: 3, strides: [1, 7] },
      { data: random(66, 6), offset: 0, strides: [11, 1] },
    ], [1, 6]);
    expect(mismatches(w, c, 1e-6, 1e-7)).toEqual([]);
  });

  it("handles rank 4 with mixed broadcasting and tails of every length", () => {
    for (const inner of [1, 2, 3, 4, 5, 7, 8, 13]) {
      const [c, w] = both(prog, [2, 3, 4, inner], [
        { data: random(24 * inner, inner), offset: 0, strides: [12 * inner, 4 * inner, inner, 1] },
        { data: random(4 * inner, inner + 1), offset: 0, strides: [0, 0, inner, 1] },
      ]);
      expect(mismatches(w, c, 1e-6, 1e-7)).toEqual([]);
    }
  });

  it("rejects views that reach outside their buffer, naming the range", () => {
    const x = wasm.upload(new Float32Array(4));
    const out = wasm.alloc(8);
    expect(() => wasm.elementwise({ program: input(0), inputs: [{ id: x, offset: 0, strides: [1] }], scalars: [], shape: [8], out: { id: out, offset: 0, strides: [1] } })).toThrow(/reaches elements \[0, 7\] of a buffer of 4/);
    wasm.free(x);
    wasm.free(out);
  });
});
