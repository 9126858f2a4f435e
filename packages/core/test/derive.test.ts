/**
 * `derive` for every primitive, and for random compositions of them, against float64 central finite
 * differences of `compileScalar` (fast-check over random points away from kinks), plus the kink conventions
 * and the structural zeros.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BINARY_OPS, type BinaryOp, type Expr, UNARY_OPS, type UnaryOp, binary, compileScalar, constant, derive, input, output, scalar, unary } from "../src/index.js";
import { where } from "../src/expr/expr.js";

const x = input(0);
const y = input(1);

/** Central difference of f along input `i` at `point`, in float64. */
function numeric(e: Expr, i: number, point: number[], scalars: number[] = []): number {
  const f = compileScalar(e);
  const h = 1e-6 * Math.max(1, Math.abs(point[i]!));
  const up = [...point];
  const down = [...point];
  up[i]! += h;
  down[i]! -= h;
  return (f(up, scalars) - f(down, scalars)) / (2 * h);
}

function expectDerivative(e: Expr, i: number, point: number[], scalars: number[] = []): void {
  const analytic = compileScalar(derive(e, i))(point, scalars);
  const fd = numeric(e, i, point, scalars);
  // central differences with h = 1e-6 are good to ~1e-8 relative on these smooth functions
  expect(Math.abs(analytic - fd), `d(${e.key})/d input ${i} at ${point.join(", ")}: analytic ${analytic}, numeric ${fd}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
}

const real = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
const awayFrom = (arb: fc.Arbitrary<number>, kinks: number[], gap = 1e-3) => arb.filter((v) => kinks.every((k) => Math.abs(v - k) > gap));
/** Values not within 1e-3 of an integer (floor's steps). */
const offInteger = real(-5, 5).filter((v) => Math.abs(v - Math.round(v)) > 1e-3);

/** Where each unary primitive is differentiable (a domain kept clear of its kinks and poles). */
const UNARY_DOMAIN: Record<UnaryOp, fc.Arbitrary<number>> = {
  neg: real(-10, 10),
  abs: awayFrom(real(-10, 10), [0]),
  sign: awayFrom(real(-10, 10), [0]),
  exp: real(-20, 20),
  expm1: real(-20, 20),
  log: real(1e-3, 1e3),
  log1p: real(-0.999, 1e3),
  sqrt: real(1e-3, 1e3),
  tanh: real(-10, 10),
  sigmoid: real(-30, 30),
  erf: real(-5, 5),
  floor: offInteger,
  isnan: real(-10, 10),
  sin: real(-20, 20),
  cos: real(-20, 20),
  tan: real(-1.5, 1.5),
  atan: real(-50, 50),
  sinh: real(-20, 20),
  cosh: real(-20, 20),
  asinh: real(-50, 50),
  atanh: real(-0.99, 0.99),
  reciprocal: awayFrom(real(-10, 10), [0], 0.05),
  rsqrt: real(0.01, 100),
  exp2: real(-30, 30),
  log2: real(1e-3, 1e3),
  round: real(-5, 5).filter((v) => Math.abs(v - Math.round(v) - 0.5) > 1e-3 && Math.abs(v - Math.round(v) + 0.5) > 1e-3),
  trunc: offInteger,
};

const BINARY_DOMAIN: Record<BinaryOp, fc.Arbitrary<[number, number]>> = {
  add: fc.tuple(real(-10, 10), real(-10, 10)),
  sub: fc.tuple(real(-10, 10), real(-10, 10)),
  mul: fc.tuple(real(-10, 10), real(-10, 10)),
  div: fc.tuple(real(-10, 10), awayFrom(real(-10, 10), [0], 0.1)),
  pow: fc.tuple(real(0.05, 5), real(-3, 3)),
  min: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  max: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  lt: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  le: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  gt: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  ge: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  eq: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  ne: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.abs(a - b) > 1e-3),
  hypot: fc.tuple(real(-10, 10), real(-10, 10)).filter(([a, b]) => Math.hypot(a, b) > 1e-2),
};

describe("derive matches float64 finite differences", () => {
  for (const op of UNARY_OPS) {
    test(`unary ${op}`, () => {
      fc.assert(fc.property(UNARY_DOMAIN[op], (v) => expectDerivative(unary(op, x), 0, [v])), { numRuns: 200, seed: 1 });
    });
  }

  for (const op of BINARY_OPS) {
    test(`binary ${op}, with respect to each operand`, () => {
      fc.assert(
        fc.property(BINARY_DOMAIN[op], ([a, b]) => {
          expectDerivative(binary(op, x, y), 0, [a, b]);
          expectDerivative(binary(op, x, y), 1, [a, b]);
        }),
        { numRuns: 200, seed: 2 },
      );
    });
  }

  test("the chain rule through an inner function, for every unary primitive", () => {
    // op(u) with u = 0.3x + 0.5 ∈ (0.2, 0.8), inside every primitive's domain, so that da ≠ 1 (round steps at 0.5)
    fc.assert(
      fc.property(fc.constantFrom(...UNARY_OPS.filter((o) => o !== "floor" && o !== "round")), real(-0.99, 0.99), (op, v) => {
        const inner = x.mul(0.3).add(0.5);
        expectDerivative(unary(op, inner), 0, [v]);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  test("pow with a constant exponent (the db = 0 rule), including negative bases for integer exponents", () => {
    for (const k of [2, 3, -1, 0.5, 1.5]) {
      const e = x.pow(k);
      fc.assert(
        fc.property(Number.isInteger(k) ? awayFrom(real(-4, 4), [0], 0.05) : real(0.05, 4), (v) => expectDerivative(e, 0, [v])),
        { numRuns: 50, seed: k * 10 },
      );
    }
    // at 0 the constant-exponent rule gives 0, not the NaN of the general formula
    expect(compileScalar(derive(x.pow(2), 0))([0])).toBe(0);
    expect(compileScalar(derive(x.pow(3), 0))([0])).toBe(0);
  });

  test("run-time scalars are constants to derive", () => {
    const e = x.mul(scalar(0)).add(scalar(1).mul(x.square()));
    fc.assert(
      fc.property(real(-5, 5), real(-3, 3), real(-3, 3), (v, s0, s1) => expectDerivative(e, 0, [v], [s0, s1])),
      { numRuns: 100, seed: 4 },
    );
  });

  test("random compositions of primitives (two inputs)", () => {
    // smooth, everywhere-defined building blocks, so any composition is differentiable
    const leaf = fc.constantFrom(x, y, constant(0.7), constant(-1.3));
    const expr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
      e: fc.oneof(
        { maxDepth: 4, depthIdentifier: "e" },
        leaf,
        fc.tuple(fc.constantFrom("tanh", "sigmoid", "erf", "neg") as fc.Arbitrary<UnaryOp>, tie("e")).map(([op, a]) => unary(op, a)),
        fc.tuple(tie("e")).map(([a]) => a.tanh().exp()),
        fc.tuple(tie("e")).map(([a]) => a.square().add(1).log()),
        fc.tuple(tie("e")).map(([a]) => a.square().add(0.5).sqrt()),
        fc.tuple(fc.constantFrom("add", "sub", "mul") as fc.Arbitrary<BinaryOp>, tie("e"), tie("e")).map(([op, a, b]) => binary(op, a, b)),
        fc.tuple(tie("e"), tie("e")).map(([a, b]) => a.div(b.square().add(1))),
        fc.tuple(tie("e"), tie("e")).map(([a, b]) => a.sigmoid().add(0.1).pow(b.tanh())),
      ),
    })).e;
    fc.assert(
      fc.property(expr, real(-2, 2), real(-2, 2), (e, a, b) => {
        expectDerivative(e, 0, [a, b]);
        expectDerivative(e, 1, [a, b]);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe("kink conventions", () => {
  const at = (e: Expr, v: number, i = 0) => compileScalar(derive(e, i))([v, 0]);

  test("where: the branch that holds at the kink decides (x > 0 vs x >= 0)", () => {
    expect(at(where(x.gt(0), x, 0), 0)).toBe(0);
    expect(at(where(x.ge(0), x, 0), 0)).toBe(1);
    expect(at(where(x.gt(0), x, x.mul(0.1)), 0)).toBeCloseTo(0.1, 15);
    expect(at(x.gt(0).where(x.square(), x.neg()), -2)).toBe(-1);
    // the condition itself is never differentiated
    expect(at(where(x.mul(x).gt(1), 3, 4), 0.5)).toBe(0);
  });

  test("a NaN condition takes the second branch's derivative", () => {
    const e = where(x.sub(y), x.mul(2), x.mul(5));
    expect(compileScalar(derive(e, 0))([NaN, 1])).toBe(5);
  });

  test("min/max ties split the gradient evenly; otherwise it goes to the chosen operand", () => {
    for (const op of ["min", "max"] as const) {
      const e = binary(op, x, y);
      expect(compileScalar(derive(e, 0))([2, 2])).toBe(0.5);
      expect(compileScalar(derive(e, 1))([2, 2])).toBe(0.5);
    }
    expect(compileScalar(derive(x.max(y), 0))([3, 2])).toBe(1);
    expect(compileScalar(derive(x.max(y), 1))([3, 2])).toBe(0);
    expect(compileScalar(derive(x.min(y), 0))([3, 2])).toBe(0);
    // max(x, x) is x: the halves add up to 1
    expect(at(x.max(x), 1.5)).toBe(1);
    // relu written as max(x, 0) has derivative 1/2 at 0 (why activations write where(x > 0, x, 0))
    expect(at(x.max(0), 0)).toBe(0.5);
  });

  test("min/max with a NaN operand pass the whole gradient to both operands (torch.maximum/minimum's backward)", () => {
    for (const op of ["min", "max"] as const) {
      const e = binary(op, x, y);
      expect(compileScalar(derive(e, 0))([NaN, 2]), `${op} d/da`).toBe(1);
      expect(compileScalar(derive(e, 1))([NaN, 2]), `${op} d/db`).toBe(1);
      expect(compileScalar(derive(e, 0))([2, NaN]), `${op} d/da`).toBe(1);
    }
  });

  test("pow at its edges follows torch.pow's backward", () => {
    const b = scalar(0);
    const d = (e: Expr, i: number, point: number[], scalars: number[] = []) => compileScalar(derive(e, i))(point, scalars);
    // a run-time exponent of 0: x⁰ = 1 everywhere, so 0 (the plain formula gives 0·0⁻¹ = NaN at x = 0)
    expect(d(x.pow(b), 0, [0], [0])).toBe(0);
    expect(d(x.pow(b), 0, [-3], [0])).toBe(0);
    // x^y at x = 0, y ≥ 0: ∂/∂x = y·0^(y−1), ∂/∂y masked to 0 (log 0 = −∞)
    expect(d(x.pow(y), 0, [0, 2])).toBe(0);
    expect(d(x.pow(y), 1, [0, 2])).toBe(0);
    expect(d(x.pow(y), 0, [0, 1])).toBe(1);
    expect(d(x.pow(y), 1, [0, 0])).toBe(0);
    // negative base, integer exponent: d/dx (x³) at −2 is 12; the exponent's derivative has no real value
    expect(d(x.pow(y), 0, [-2, 3])).toBe(12);
    expect(d(x.pow(y), 1, [-2, 3])).toBeNaN();
    // 0^0.5: the derivative is +∞ (as torch), not NaN
    expect(d(x.pow(0.5), 0, [0])).toBe(Infinity);
  });

  test("hypot: (a, b)/hypot, and 0 at (0, 0)", () => {
    const e = x.hypot(y);
    expect(compileScalar(derive(e, 0))([0, 0])).toBe(0);
    expect(compileScalar(derive(e, 1))([0, 0])).toBe(0);
    expect(compileScalar(derive(e, 0))([3, -4])).toBeCloseTo(0.6, 15);
    expect(compileScalar(derive(e, 1))([3, -4])).toBeCloseTo(-0.8, 15);
    // no overflow of the squares at the float32 extremes, nor underflow at tiny ones
    expect(compileScalar(derive(e, 0))([3e38, 3e38])).toBeCloseTo(Math.SQRT1_2, 15);
    expect(compileScalar(derive(e, 0))([1e-300, 1e-300])).toBeCloseTo(Math.SQRT1_2, 15);
  });

  test("clamp: min(max(x, lo), hi), half the gradient at a bound, 1 inside, 0 outside; bounds get the rest", () => {
    const e = x.clamp(y, 1);
    expect(compileScalar(derive(e, 0))([0.3, -1])).toBe(1);
    expect(compileScalar(derive(e, 0))([-1, -1])).toBe(0.5);
    expect(compileScalar(derive(e, 1))([-1, -1])).toBe(0.5);
    expect(compileScalar(derive(e, 0))([1, -1])).toBe(0.5);
    expect(compileScalar(derive(e, 0))([2, -1])).toBe(0);
    expect(compileScalar(derive(e, 1))([-5, -1])).toBe(1);
    expect(compileScalar(e)([NaN, -1])).toBeNaN();
    // lo > hi: hi, as torch.clamp
    expect(compileScalar(x.clamp(2, 1))([5])).toBe(1);
    expect(compileScalar(x.clamp(2, 1))([-5])).toBe(1);
  });

  test("round and trunc have no gradient; asinh and atanh derivatives stay finite and accurate at the extremes", () => {
    expect(at(x.round(), 2.5)).toBe(0);
    expect(at(x.trunc(), -2.5)).toBe(0);
    // asinh' = 1/√(x² + 1) ≈ 1/|x|, computed without overflow of x²
    expect(at(x.asinh(), 3e38)).toBeCloseTo(1 / 3e38, 50);
    expect(at(x.atanh(), 1 - 2 ** -24) / (1 / (2 ** -24 * (2 - 2 ** -24))) - 1).toBeCloseTo(0, 12);
    expect(at(x.atanh(), 1)).toBe(Infinity);
  });

  test("abs and sign at 0, floor on its steps", () => {
    expect(at(x.abs(), 0)).toBe(0);
    expect(at(x.abs(), -3)).toBe(-1);
    expect(at(x.sign(), 0)).toBe(0);
    expect(at(x.floor(), 2)).toBe(0);
  });

  test("clip: 1 strictly inside, 0 outside", () => {
    expect(at(x.clip(-1, 1), 0.3)).toBe(1);
    expect(at(x.clip(-1, 1), 1.5)).toBe(0);
    expect(at(x.clip(-1, 1), -7)).toBe(0);
  });
});

describe("stability and structure of derived expressions", () => {
  test("derivatives of saturating primitives underflow to 0, never NaN", () => {
    expect(compileScalar(derive(x.sigmoid(), 0))([1000])).toBe(0);
    expect(compileScalar(derive(x.sigmoid(), 0))([-1000])).toBe(0);
    expect(compileScalar(derive(x.tanh(), 0))([-1000])).toBe(0);
    expect(compileScalar(derive(x.erf(), 0))([40])).toBe(0);
    expect(compileScalar(derive(x.exp().log1p(), 0))([-800])).toBe(0);
  });

  test("structural zeros fold away: constants, scalars, other inputs, comparisons, floor, sign, isnan", () => {
    for (const e of [constant(3), scalar(0), y, x.lt(1), x.floor(), x.sign(), x.isNaN(), y.exp().mul(2), binary("eq", x, y)]) {
      const d = derive(e, 0);
      expect(d.node, e.key).toEqual({ kind: "const", value: 0 });
    }
    // a zero from one operand leaves only the other's term
    expect(derive(x.add(y.exp()), 0).key).toBe(constant(1).key);
    expect(derive(x.mul(3), 0).key).toBe(constant(3).key);
    expect(derive(x.sub(y), 1).key).toBe(constant(-1).key);
  });

  test("the derivative of an expression reuses its subexpressions (exp and sigmoid refer to themselves)", () => {
    const e = x.mul(2).exp();
    const d = derive(e, 0);
    expect(d.key).toContain(e.key);
  });

  test("the output y cannot be differentiated: the error says to write the derivative in x", () => {
    expect(() => derive(output().mul(x), 0)).toThrow(/cannot differentiate an expression that refers to the output y/);
  });

  test("derive is independent of the order of requests (memo per call)", () => {
    const e = x.mul(y).tanh().add(x.square());
    const d0 = derive(e, 0).key;
    derive(e, 1);
    expect(derive(e, 0).key).toBe(d0);
  });
});
