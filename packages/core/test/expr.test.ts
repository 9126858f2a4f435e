/** The expression language: canonical keys, common subexpressions, traversal, and the float64 semantics of compileScalar. */
import { describe, expect, test, vi } from "vitest";
import {
  BINARY_OPS, Expr, UNARY_OPS, binary, children, compileScalar, constant, exprArity, exprToJs, input, inputsRead, mapExpr,
  output, param, scalar, topoOrder, unary,
} from "../src/index.js";
import { compactInputs, where } from "../src/expr/expr.js";

const x = input(0);
const y = input(1);

describe("keys", () => {
  test("structurally equal expressions have equal keys, built any way", () => {
    expect(x.add(1).mul(y).key).toBe(binary("mul", binary("add", input(0), constant(1)), input(1)).key);
    expect(x.square().key).toBe(x.mul(x).key);
    expect(x.clip(-1, 2).key).toBe(where(x.lt(-1), -1, where(x.gt(2), 2, x)).key);
    expect(x.gt(0).where(x, 0).key).toBe(where(x.gt(0), x, 0).key);
  });

  test("different expressions have different keys", () => {
    const exprs: Expr[] = [
      x, y, scalar(0), scalar(1), constant(0), constant(-0), constant(1), constant(NaN), constant(Infinity), constant(12),
      constant(1.2), param("alpha"), param("beta"), output(), y.add(x), x.add(1), x.add(scalar(0)), x.exp().exp(),
      where(x, y, 0), where(x, 0, y), constant(1).add(2), x.add(x), input(10), input(1).add(0),
      ...UNARY_OPS.map((op) => unary(op, x)), ...BINARY_OPS.map((op) => binary(op, x, y)),
    ];
    expect(new Set(exprs.map((e) => e.key)).size).toBe(exprs.length);
  });

  test("keys are cached and stable", () => {
    const e = x.mul(y).add(x.mul(y).tanh());
    // cached: the first read of a new node's key reads its children's keys; a second read reads nothing below
    const getter = vi.spyOn(Expr.prototype, "key", "get");
    try {
      const first = e.key;
      const firstReads = getter.mock.calls.length;
      expect(firstReads).toBeGreaterThan(1);
      expect(e.key).toBe(first);
      expect(getter.mock.calls.length).toBe(firstReads + 1);
    } finally {
      getter.mockRestore();
    }
    // stable: the same expression built again, separately, has the same key, and a different one does not
    expect(e.key).toBe(x.mul(y).add(x.mul(y).tanh()).key);
    expect(e.key).not.toBe(x.mul(y).add(x.mul(y).sigmoid()).key);
  });
});

describe("traversal", () => {
  test("topoOrder visits each distinct node once, children first", () => {
    const shared = x.mul(y);
    const e = shared.add(shared.exp()).sub(shared);
    const order = topoOrder(e);
    const keys = order.map((n) => n.key);
    expect(new Set(keys).size).toBe(keys.length);
    // x, y, x·y, exp(x·y), x·y + exp(x·y), (…) − x·y
    expect(order).toHaveLength(6);
    for (const [i, n] of order.entries()) {
      for (const c of children(n)) expect(keys.indexOf(c.key)).toBeLessThan(i);
    }
    expect(order[order.length - 1]!.key).toBe(e.key);
  });

  test("children of each node kind", () => {
    expect(children(x)).toEqual([]);
    expect(children(x.exp()).map((c) => c.key)).toEqual([x.key]);
    expect(children(x.add(y)).map((c) => c.key)).toEqual([x.key, y.key]);
    expect(children(where(x, y, 2)).map((c) => c.key)).toEqual([x.key, y.key, constant(2).key]);
  });

  test("mapExpr replaces leaves everywhere and rebuilds the rest", () => {
    const e = where(x.gt(0), x.mul(param("alpha")), output().add(x));
    const bound = mapExpr(e, (n) => (n.node.kind === "param" ? scalar(0) : n.node.kind === "output" ? input(1) : undefined));
    expect(bound.key).toBe(where(x.gt(0), x.mul(scalar(0)), y.add(x)).key);
    expect(exprArity(bound)).toEqual({ inputs: 2, scalars: 1, usesOutput: false, params: [] });
  });

  test("exprArity counts inputs and scalars by their highest index, and lists params", () => {
    expect(exprArity(input(3).add(scalar(1)).mul(param("a")).add(param("b")).add(output()))).toEqual({
      inputs: 4, scalars: 2, usesOutput: true, params: ["a", "b"],
    });
    expect(exprArity(constant(1))).toEqual({ inputs: 0, scalars: 0, usesOutput: false, params: [] });
  });
});

describe("exprToJs", () => {
  test("common subexpressions are computed once", () => {
    const shared = x.mul(y).tanh();
    const e = shared.add(shared.mul(shared)).add(x.mul(y));
    const { statements } = exprToJs(e, { input: (i) => `X${i}`, scalar: (j) => `S${j}`, output: () => "Y" });
    const lines = statements.split("\n");
    expect(lines).toHaveLength(topoOrder(e).length);
    expect(lines.filter((l) => l.includes("tanh("))).toHaveLength(1);
    expect(lines.filter((l) => l.includes(" * "))).toHaveLength(2); // x·y and t·t
  });

  test("special constants are written so that they round-trip", () => {
    for (const v of [NaN, Infinity, -Infinity, -0, 1e-300, 1e21, 0.1, -2.5e-8]) {
      const f = compileScalar(constant(v));
      expect(Object.is(f([]), v), String(v)).toBe(true);
    }
  });

  test("a parameter left unbound is an error naming it", () => {
    expect(() => compileScalar(x.mul(param("alpha")))).toThrow('expression still holds parameter "alpha": bind parameters before compiling');
  });
});

describe("inputs read", () => {
  test("inputsRead lists each input index once, ascending; compactInputs renumbers them and keeps the value", () => {
    const e = input(3).mul(input(1).add(input(3)).tanh()).sub(scalar(0));
    expect(inputsRead(e)).toEqual([1, 3]);
    expect(inputsRead(constant(2).add(scalar(0)))).toEqual([]);
    const { program, read } = compactInputs(e);
    expect(read).toEqual([1, 3]);
    expect(inputsRead(program)).toEqual([0, 1]);
    const [a, b] = [0.7, -1.3];
    expect(compileScalar(program)([a, b], [0.25])).toBe(compileScalar(e)([9, a, 9, b], [0.25]));
  });
});

describe("compileScalar semantics (float64)", () => {
  const f2 = (e: Expr) => compileScalar(e);

  test("arithmetic, inputs, scalars and the output", () => {
    expect(f2(x.mul(y).add(scalar(0)))([3, 4], [0.5])).toBe(12.5);
    expect(f2(output().mul(2))([], [], 21)).toBe(42);
    expect(f2(x.div(y))([1, 0])).toBe(Infinity);
    expect(f2(x.pow(y))([2, 10])).toBe(1024);
    // missing inputs read as NaN, never as a stale value
    expect(f2(input(2))([1, 2])).toBeNaN();
  });

  test("where: a condition is true unless it is 0 or NaN; the method form and its deprecated name build the same node", () => {
    const sel = f2(where(x, 1, 2));
    expect([sel([5]), sel([-1]), sel([0]), sel([-0]), sel([NaN]), sel([Infinity])]).toEqual([1, 1, 2, 2, 2, 1]);
    expect(x.where(1, 2).key).toBe(where(x, 1, 2).key);
    // the deprecated name keeps working
    expect(x.select(1, 2).key).toBe(where(x, 1, 2).key);
    expect(where(x, 1, 2).node.kind).toBe("where");
  });

  test("comparisons give 1/0 and are false for NaN (ne true)", () => {
    const ops = ["lt", "le", "gt", "ge", "eq", "ne"] as const;
    const at = (a: number, b: number) => ops.map((op) => f2(binary(op, x, y))([a, b]));
    expect(at(1, 2)).toEqual([1, 1, 0, 0, 0, 1]);
    expect(at(2, 2)).toEqual([0, 1, 0, 1, 1, 0]);
    expect(at(NaN, 2)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(at(0, -0)).toEqual([0, 1, 0, 1, 1, 0]);
  });

  test("min/max propagate NaN from either side; clip keeps NaN", () => {
    for (const op of ["min", "max"] as const) {
      expect(f2(binary(op, x, y))([NaN, 1])).toBeNaN();
      expect(f2(binary(op, x, y))([1, NaN])).toBeNaN();
    }
    expect(f2(x.clip(-1, 1))([NaN])).toBeNaN();
    expect(f2(x.clip(-1, 1))([5])).toBe(1);
  });

  test("unary primitives match Math, with sign(±0) = 0 and isnan", () => {
    const v = [-2.5, -0.3, 0.7, 3];
    const pairs: [Expr, (t: number) => number][] = [
      [x.neg(), (t) => -t], [x.abs(), Math.abs], [x.exp(), Math.exp], [x.expm1(), Math.expm1],
      [x.floor(), Math.floor], [x.square(), (t) => t * t],
    ];
    for (const [e, ref] of pairs) for (const t of v) expect(f2(e)([t])).toBe(ref(t));
    // tanh is Cephes' (math.test.ts): within 3 ulp of Math.tanh, not always the same bits
    for (const t of v) expect(Math.abs(f2(x.tanh())([t]) - Math.tanh(t))).toBeLessThanOrEqual(3 * Number.EPSILON * Math.abs(Math.tanh(t)));
    expect(f2(x.log())([Math.E])).toBeCloseTo(1, 15);
    expect(f2(x.sqrt())([-1])).toBeNaN();
    expect([-3, -0, 0, 2, NaN].map((t) => f2(x.sign())([t]))).toEqual([-1, 0, 0, 1, NaN]);
    expect([NaN, 0, Infinity].map((t) => f2(x.isNaN())([t]))).toEqual([1, 0, 0]);
  });

  test("sigmoid is stable at the extremes", () => {
    const s = f2(x.sigmoid());
    expect(s([0])).toBe(0.5);
    expect(s([1000])).toBe(1);
    expect(s([-1000])).toBe(0);
    expect(s([-745])).toBeGreaterThan(0);
    expect(s([-30])).toBeCloseTo(Math.exp(-30) / (1 + Math.exp(-30)), 25);
  });

  test("compiled functions are cached by key", () => {
    expect(compileScalar(x.add(y).exp())).toBe(compileScalar(x.add(y).exp()));
  });
});
