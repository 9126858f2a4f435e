/**
 * The op cases shared by the gradient checks and the cross-backend parity checks: every differentiable op,
 * with broadcasting, on inputs kept clear of kinks, each with a float64 reference of the same function.
 */
import {
  type Tensor, abs, add, broadcastTo, clip, clone, concat, div, elementwise, erf, exp, expandDims, expm1, floor, gather,
  greater, isNaN, lessEqual, log, log1p, logSumExp, matmul, max, maximum, mean, min, minimum, mul, narrow, neg, oneHot,
  permute, pow, reshape, sigmoid, sign, slice, sqrt, square, squeeze, stack, sub, sum, tanh, tensor, transpose, where,
  sin, cos, tan, atan, sinh, cosh, asinh, atanh, reciprocal, rsqrt, exp2, log2, hypot,
} from "@neurite/core";
import { distinct, grid, mask, rand } from "./cases.js";
import type { GradCase } from "./gradcheck.js";
import * as R from "./reference.js";
import { TestRng, erfRef, sigmoidRef } from "@neurite/test-support";

// reset by opCases() so that every call builds the same inputs
let rng = new TestRng(0);
/** The shape of most unary and binary cases: small, not square, so a swapped axis shows. */
const CASE_SHAPE = [2, 3];

type Unary = [name: string, f: (x: Tensor) => Tensor, ref: (v: number) => number, lo: number, hi: number, minAbs?: number];

const UNARY: Unary[] = [
  ["neg", neg, (v) => -v, -2, 2],
  ["abs", abs, Math.abs, -2, 2, 0.1],
  ["exp", exp, Math.exp, -2, 2],
  ["expm1", expm1, Math.expm1, -2, 2],
  ["log", log, Math.log, 0.3, 3],
  ["log1p", log1p, Math.log1p, -0.6, 2],
  ["sqrt", sqrt, Math.sqrt, 0.3, 3],
  ["square", square, (v) => v * v, -2, 2],
  ["tanh", tanh, Math.tanh, -2, 2],
  ["sigmoid", sigmoid, sigmoidRef, -3, 3],
  ["erf", erf, erfRef, -2, 2],
  ["pow(x, 3)", (x) => pow(x, 3), (v) => v ** 3, -2, 2],
  ["pow(x, 0.5)", (x) => pow(x, 0.5), Math.sqrt, 0.3, 3],
  ["pow(2, x)", (x) => pow(2, x), (v) => 2 ** v, -2, 2],
  ["x + 2", (x) => add(x, 2), (v) => v + 2, -2, 2],
  ["3 - x", (x) => sub(3, x), (v) => 3 - v, -2, 2],
  ["x * -1.5", (x) => mul(x, -1.5), (v) => v * -1.5, -2, 2],
  ["x / 3", (x) => div(x, 3), (v) => v / 3, -2, 2],
  ["1 / x", (x) => div(1, x), (v) => 1 / v, -2, 2, 0.4],
  ["clip(x, -0.5, 0.7)", (x) => clip(x, -0.5, 0.7), (v) => Math.min(0.7, Math.max(-0.5, v)), -2, 2],
  ["x * (x > 0.3)", (x) => mul(x, greater(x, 0.3)), (v) => (v > 0.3 ? v : 0), -2, 2],
  ["elementwise softsign", (x) => elementwise((e) => e.div(e.abs().add(1)), [x]), (v) => v / (1 + Math.abs(v)), -2, 2, 0.1],
  ["sin", sin, Math.sin, -3, 3],
  ["cos", cos, Math.cos, -3, 3],
  ["tan", tan, Math.tan, -1.2, 1.2],
  ["atan", atan, Math.atan, -3, 3],
  ["sinh", sinh, Math.sinh, -2, 2],
  ["cosh", cosh, Math.cosh, -2, 2],
  ["asinh", asinh, Math.asinh, -3, 3],
  ["atanh", atanh, Math.atanh, -0.8, 0.8],
  ["reciprocal", reciprocal, (v) => 1 / v, -2, 2, 0.4],
  ["rsqrt", rsqrt, (v) => 1 / Math.sqrt(v), 0.3, 3],
  ["exp2", exp2, (v) => 2 ** v, -2, 2],
  ["log2", log2, Math.log2, 0.3, 3],
];

type Binary = [name: string, f: (a: Tensor, b: Tensor) => Tensor, ref: (a: number, b: number) => number];

const BINARY: Binary[] = [
  ["add", add, (a, b) => a + b],
  ["sub", sub, (a, b) => a - b],
  ["mul", mul, (a, b) => a * b],
  ["div", div, (a, b) => a / b],
  ["pow", pow, (a, b) => a ** b],
  ["maximum", maximum, Math.max],
  ["minimum", minimum, Math.min],
  ["hypot", hypot, Math.hypot],
];

/** Broadcast pairs: same shape, a trailing vector, two-sided broadcasting, a rank-0 operand. */
const PAIRS: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1, 4], [3, 1]], [[], [2, 3]], [[4, 1], [1]]];

function binaryInputs(name: string, a: number[], b: number[]): R.Nd[] {
  switch (name) {
    // ties (maximum/minimum) sit on a kink: two grids half a step apart never meet
    case "maximum":
    case "minimum": return [grid(rng, a, 0.3, 0), grid(rng, b, 0.3, 0.15)];
    case "div": return [rand(rng, a), rand(rng, b, -2, 2, 0.5)];
    case "pow": return [rand(rng, a, 0.5, 2), rand(rng, b, -2, 2)];
    default: return [rand(rng, a), rand(rng, b)];
  }
}

const X3 = [2, 3, 4];
type Reduction = "sum" | "mean" | "max" | "min" | "logSumExp";
const REDUCERS: Record<Reduction, (x: Tensor, axes?: number | number[], keepDims?: boolean) => Tensor> = { sum, mean, max, min, logSumExp };
const AXES: [axes: number | number[] | undefined, keepDims: boolean][] = [
  [undefined, false], [1, false], [-1, true], [[0, 2], false], [[0, 2], true], [[0, 1, 2], true], [[], false],
];

/** Every case, built from a fixed seed (the same inputs on every backend and every run). */
export function opCases(): GradCase[] {
  rng = new TestRng(20261129);
  const out: GradCase[] = [];
  for (const [name, f, ref, lo, hi, minAbs] of UNARY) {
    // clip: keep inputs clear of its two kinks
    const x = name.startsWith("clip") ? grid(rng, CASE_SHAPE, 0.2, 0.05) : name.includes("> 0.3") ? grid(rng, CASE_SHAPE, 0.2, 0.05) : rand(rng, CASE_SHAPE, lo, hi, minAbs ?? 0);
    out.push({ name, inputs: [x], f: (t) => f(t), ref: (v) => R.map(ref, v) });
  }
  // piecewise-constant primitives: zero gradient, and finite differences agree away from the steps
  out.push({ name: "sign", inputs: [rand(rng, CASE_SHAPE, -2, 2, 0.1)], f: (t) => mul(sign(t), t), ref: (v) => R.map((u) => Math.sign(u) * u, v) });
  out.push({ name: "floor", inputs: [grid(rng, CASE_SHAPE, 0.5, 0.25)], f: (t) => add(floor(t), t), ref: (v) => R.map((u) => Math.floor(u) + u, v) });
  out.push({ name: "isNaN", inputs: [rand(rng, CASE_SHAPE)], f: (t) => add(isNaN(t), t), ref: (v) => R.map((u) => u, v) });

  for (const [name, f, ref] of BINARY) {
    for (const [a, b] of PAIRS) {
      out.push({ name: `${name} [${a.join(",")}] with [${b.join(",")}]`, inputs: binaryInputs(name, a, b), f: (x, y) => f(x, y), ref: (x, y) => R.map(ref, x, y) });
    }
  }
  out.push({ name: "x * x (one tensor used twice)", inputs: [rand(rng, CASE_SHAPE)], f: (x) => mul(x, x), ref: (x) => R.map((v) => v * v, x) });
  out.push({ name: "x + x * 2 - x (three uses)", inputs: [rand(rng, CASE_SHAPE)], f: (x) => sub(add(x, mul(x, 2)), x), ref: (x) => R.map((v) => 2 * v, x) });

  // where: the gradient goes to the chosen branch; cond broadcasts and gets none
  out.push({
    name: "where(cond [2,1], a [2,3], b [3])",
    inputs: [R.nd([2, 1], [1, 0]), rand(rng, [2, 3]), rand(rng, [3])],
    wrt: [1, 2],
    f: (c, a, b) => where(c, a, b),
    ref: (c, a, b) => R.map((k, u, v) => (k ? u : v), c, a, b),
  });
  out.push({
    name: "where(cond, a, 0)",
    inputs: [mask(rng, CASE_SHAPE), rand(rng, CASE_SHAPE)],
    wrt: [1],
    f: (c, a) => where(c, a, 0),
    ref: (c, a) => R.map((k, u) => (k ? u : 0), c, a),
  });
  out.push({
    name: "where(a <= b, a, b) (comparison as condition)",
    inputs: [grid(rng, CASE_SHAPE, 0.3, 0), grid(rng, CASE_SHAPE, 0.3, 0.15)],
    f: (a, b) => where(lessEqual(a, b), a, b),
    ref: (a, b) => R.map(Math.min, a, b),
  });

  for (const op of Object.keys(REDUCERS) as Reduction[]) {
    for (const [axes, keepDims] of AXES) {
      const x = op === "max" || op === "min" ? distinct(rng, X3) : rand(rng, X3);
      out.push({
        name: `${op}(axes ${JSON.stringify(axes)}, keepDims ${keepDims})`,
        inputs: [x],
        f: (t) => REDUCERS[op](t, axes, keepDims),
        ref: (v) => (axes !== undefined && Array.isArray(axes) && axes.length === 0 ? v : R.reduce(v, op, axes, keepDims)),
      });
    }
  }

  // matmul: 2-D, batched, broadcast batch (2-D with 3-D, and a batch of 1), all four transpose combinations
  const geometries: [number[], number[]][] = [[[3, 4], [4, 2]], [[2, 3, 4], [2, 4, 5]], [[3, 4], [2, 4, 5]], [[2, 3, 4], [4, 5]], [[1, 3, 4], [2, 4, 5]], [[2, 3, 4], [1, 4, 5]]];
  const swap = (s: number[]): number[] => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];
  for (const [sa, sb] of geometries) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        out.push({
          name: `matmul [${sa.join(",")}]${tA ? "ᵀ" : ""} · [${sb.join(",")}]${tB ? "ᵀ" : ""}`,
          inputs: [rand(rng, tA ? swap(sa) : sa), rand(rng, tB ? swap(sb) : sb)],
          f: (a, b) => matmul(a, b, { transposeA: tA, transposeB: tB }),
          ref: (a, b) => R.matmul(a, b, tA, tB),
          fd32Samples: 3,
        });
      }
    }
  }

  // shape ops
  const x24 = (): R.Nd => rand(rng, X3);
  out.push({ name: "reshape [2,3,4] → [3,-1]", inputs: [x24()], f: (t) => reshape(t, [3, -1]), ref: (v) => R.reshape(v, [3, 8]) });
  out.push({ name: "transpose (reversed axes)", inputs: [x24()], f: (t) => transpose(t), ref: (v) => R.transpose(v) });
  out.push({ name: "permute [1, 2, 0]", inputs: [x24()], f: (t) => permute(t, [1, 2, 0]), ref: (v) => R.transpose(v, [1, 2, 0]) });
  out.push({ name: "slice(1, 2)", inputs: [rand(rng, [4, 3])], f: (t) => slice(t, 1, 3), ref: (v) => R.narrow(v, 0, 1, 2) });
  out.push({ name: "slice(-2)", inputs: [rand(rng, [4, 3])], f: (t) => slice(t, -2), ref: (v) => R.narrow(v, 0, 2, 2) });
  out.push({ name: "narrow(axis 1, 1, 2)", inputs: [x24()], f: (t) => narrow(t, 1, 1, 2), ref: (v) => R.narrow(v, 1, 1, 2) });
  out.push({ name: "narrow(axis -1, 3, 1)", inputs: [x24()], f: (t) => narrow(t, -1, 3, 1), ref: (v) => R.narrow(v, 2, 3, 1) });
  out.push({
    name: "concat axis 1",
    inputs: [rand(rng, [2, 1, 4]), rand(rng, [2, 3, 4])],
    f: (a, b) => concat([a, b], 1),
    ref: (a, b) => R.concat([a, b], 1),
  });
  out.push({
    name: "concat axis 0 of three (one not differentiated)",
    inputs: [rand(rng, [1, 3]), rand(rng, [2, 3]), rand(rng, [1, 3])],
    wrt: [0, 2],
    f: (a, b, c) => concat([a, b, c], 0),
    ref: (a, b, c) => R.concat([a, b, c], 0),
  });
  out.push({
    name: "stack axis 1",
    inputs: [rand(rng, [2, 3]), rand(rng, [2, 3])],
    f: (a, b) => stack([a, b], 1),
    ref: (a, b) => R.concat([R.reshape(a, [2, 1, 3]), R.reshape(b, [2, 1, 3])], 1),
  });
  out.push({
    name: "gather axis 0 with repeats",
    inputs: [rand(rng, [3, 4])],
    f: (t) => gather(t, [2, 0, 2, 2]),
    ref: (v) => R.gather(v, R.nd([4], [2, 0, 2, 2]), 0),
  });
  out.push({
    name: "gather axis 1 with [2,2] indices",
    inputs: [rand(rng, [2, 3, 2])],
    f: (t) => gather(t, tensor([[1, 0], [1, 1]]), 1),
    ref: (v) => R.gather(v, R.nd([2, 2], [1, 0, 1, 1]), 1),
  });
  out.push({
    name: "broadcastTo [3,1] → [2,3,4]",
    inputs: [rand(rng, [3, 1])],
    f: (t) => broadcastTo(t, [2, 3, 4]),
    ref: (v) => R.map((u) => u, v, R.nd([2, 3, 4], () => 0)),
  });
  out.push({ name: "expandDims axis 1", inputs: [rand(rng, CASE_SHAPE)], f: (t) => expandDims(t, 1), ref: (v) => R.reshape(v, [2, 1, 3]) });
  out.push({ name: "squeeze", inputs: [rand(rng, [2, 1, 3])], f: (t) => squeeze(t), ref: (v) => R.reshape(v, [2, 3]) });
  out.push({ name: "clone", inputs: [rand(rng, CASE_SHAPE)], f: (t) => clone(t), ref: (v) => v });
  out.push({
    name: "oneHot(labels) * x",
    inputs: [rand(rng, [3, 4])],
    f: (t) => mul(oneHot([1, 3, 0], 4), t),
    ref: (v) => R.map((u, h) => u * h, v, R.nd([3, 4], [0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0])),
  });

  // compositions: a stable log-softmax and a mean squared error
  out.push({
    name: "log-softmax x − logSumExp(x, -1, keepDims)",
    inputs: [rand(rng, [3, 4], -3, 3)],
    f: (t) => sub(t, logSumExp(t, -1, true)),
    ref: (v) => R.map((u, l) => u - l, v, R.reduce(v, "logSumExp", -1, true)),
  });
  out.push({
    name: "mean((a − b)²) with b broadcast",
    inputs: [rand(rng, [4, 3]), rand(rng, [3])],
    f: (a, b) => mean(square(sub(a, b))),
    ref: (a, b) => R.reduce(R.map((u, v) => (u - v) ** 2, a, b), "mean"),
  });
  return out;
}

