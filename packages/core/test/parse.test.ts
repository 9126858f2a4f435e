import { describe, expect, test } from "vitest";
import { ArgumentError } from "../src/errors.js";
import { type Expr, binary, constant, input, param, unary, where } from "../src/expr/expr.js";
import { FormulaError, parseFormula } from "../src/expr/parse.js";

const x = input(0);

/** Parsed and hand-built trees must be the same tree: equal canonical keys. */
function same(text: string, built: Expr, params: string[] = []): void {
  expect(parseFormula(text, { params }).key, text).toBe(built.key);
}

describe("parseFormula builds the same tree as the builder API", () => {
  test("arithmetic and precedence", () => {
    same("x * sigmoid(1.702 * x)", x.mul(constant(1.702).mul(x).sigmoid()));
    same("1 + 2 * x", constant(1).add(constant(2).mul(x)));
    same("(1 + 2) * x", constant(1).add(2).mul(x));
    same("x - 1 - 2", x.sub(1).sub(2)); // left-associative
    same("x / 2 / 4", x.div(2).div(4));
    same("2 ^ 3 ^ x", constant(2).pow(constant(3).pow(x))); // right-associative
    same("-x ^ 2", x.pow(2).neg()); // unary minus binds looser than ^, as in mathematics
    same("x ^ -1", x.pow(constant(1).neg()));
    same("x ** 2", x.pow(2));
    same("+x", x);
    same("--x", x.neg().neg());
    same(".5 * x + 1e-3 + 2.5E+2", constant(0.5).mul(x).add(1e-3).add(250));
  });

  test("comparisons, where, clamp, square and constants", () => {
    same("where(x > 0, x, alpha * expm1(x))", where(x.gt(0), x, param("alpha").mul(x.expm1())), ["alpha"]);
    same("x <= 1", x.le(1));
    same("x >= 1", x.ge(1));
    same("x < 1", x.lt(1));
    same("x == 1", x.eq(1));
    same("x != 1", x.ne(1));
    same("x + 1 < 2 * x", x.add(1).lt(constant(2).mul(x))); // comparison binds loosest
    same("clamp(x, -1, 1)", x.clamp(constant(1).neg(), 1));
    same("clip(x, -1, 1)", x.clip(constant(1).neg(), 1));
    same("square(x)", x.square());
    same("pi * e", constant(Math.PI).mul(Math.E));
    same("pow(x, 3) + min(x, 1) + max(x, 0)", binary("pow", x, 3).add(binary("min", x, 1)).add(binary("max", x, 0)));
  });

  test("every unary primitive is callable by its op name", async () => {
    const { UNARY_OPS } = await import("../src/expr/expr.js");
    for (const op of UNARY_OPS) same(`${op}(x)`, unary(op, x));
  });

  test("parameters and a custom variable name", () => {
    same("x + sin(a * x)^2 / a", x.add(param("a").mul(x).sin().pow(2).div(param("a"))), ["a"]);
    expect(parseFormula("t * 2", { variable: "t" }).key).toBe(x.mul(2).key);
  });
});

describe("parseFormula errors point at the problem", () => {
  function error(text: string, params: string[] = []): FormulaError {
    try {
      parseFormula(text, { params });
    } catch (e) {
      expect(e).toBeInstanceOf(FormulaError);
      expect(e).toBeInstanceOf(ArgumentError);
      return e as FormulaError;
    }
    throw new Error(`expected ${JSON.stringify(text)} to fail`);
  }

  test("an unknown function gets a caret and a suggestion", () => {
    const e = error("x * sigmod(x)");
    expect(e.position).toBe(4);
    expect(e.message).toContain('unknown function "sigmod" at column 5');
    expect(e.message).toContain("  x * sigmod(x)\n      ^^^^^^");
    expect(e.message).toContain('did you mean "sigmoid"');
  });

  test("an unknown name lists the names in scope", () => {
    const e = error("x * alhpa", ["alpha"]);
    expect(e.position).toBe(4);
    expect(e.message).toContain('did you mean "alpha"');
    expect(e.message).toContain("expected: x, alpha, pi, e");
  });

  test("syntax errors", () => {
    expect(error("x +").message).toMatch(/unexpected the end of the formula at column 4[\s\S]*expected: a number, a name, \(/);
    expect(error("(x + 1").message).toContain('expected ")" to close the parenthesis');
    expect(error("x 1").position).toBe(2);
    expect(error("x $ 1").message).toContain('unexpected character "$"');
    expect(error("sin(x, 1)").message).toContain("sin takes 1 argument, got 2");
    expect(error("where(x, 1)").message).toContain("where takes 3 arguments, got 2");
    expect(error("sin").message).toContain('"sin" is a function: call it as sin(...)');
    expect(error("x < 1 < 2").message).toContain("comparisons cannot be chained");
    expect(error("1e999 * x").message).toContain("the number 1e999 is not finite");
  });

  test("hostile input is refused without exhausting the stack or memory", () => {
    expect(error("(".repeat(3000) + "x" + ")".repeat(3000)).message).toContain("nests deeper than 200 levels");
    expect(error("-".repeat(3000) + "x").message).toContain("nests deeper than 200 levels");
    expect(() => parseFormula("x+".repeat(6000) + "x")).toThrow(/characters long; the limit is 10000/);
    expect(() => parseFormula(42 as unknown as string)).toThrow(ArgumentError);
    expect(() => parseFormula("constructor(x)")).toThrow(FormulaError);
    expect(() => parseFormula("__proto__")).toThrow(FormulaError);
  });

  test("parameter names that clash are refused", () => {
    expect(() => parseFormula("x", { params: ["sin"] })).toThrow(/taken by a built-in function/);
    expect(() => parseFormula("x", { params: ["pi"] })).toThrow(/taken by a built-in function or constant/);
    expect(() => parseFormula("x", { params: ["x"] })).toThrow(/name of the input variable/);
    expect(() => parseFormula("x", { params: ["a b"] })).toThrow(/must be identifiers/);
  });
});

describe("defineActivation takes a formula as text", () => {
  test("the text becomes the same expression as the builder form, with parameters bound", async () => {
    const { defineActivation } = await import("../src/activation/registry.js");
    const snake = defineActivation<{ a: number }>({
      name: "snakeText", family: "custom", package: "my-app", version: "1.0.0",
      description: "x + sin(a·x)²/a",
      params: { a: { default: 1, min: 0, exclusiveMin: true, trainable: true } },
      meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: true },
      formula: "x + sin(a * x)^2 / a",
    });
    expect(snake.source).toBe("x + sin(a * x)^2 / a");
    const a = param("a");
    const built = x.add(a.mul(x).sin().pow(2).div(a));
    expect(snake.formula(x, { a }).key).toBe(built.key);
    // bound to other operands, as the core does when it fuses the kernel
    const y = input(3);
    expect(snake.formula(y, { a: constant(2) }).key).toBe(y.add(constant(2).mul(y).sin().pow(2).div(2)).key);
  });

  test("a malformed text fails at definition with the caret message", async () => {
    const { defineActivation } = await import("../src/activation/registry.js");
    expect(() => defineActivation({
      name: "bad", family: "custom", package: "my-app", version: "1.0.0", description: "", params: {},
      meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: true },
      formula: "x * sigmoid(1.702 * )",
    })).toThrow(FormulaError);
  });
});
