/**
 * The error contract on every backend: a shape mismatch names the op and every shape, a bad axis names the
 * op, the axis and the valid range, an invalid argument names the argument and its value. A failing op
 * changes no memory counter.
 */
import {
  ArgumentError, NeuriteError, ShapeError, add, concat, div, fill, gather, logSumExp, matmul, memory, mse, narrow,
  normal, ones, oneHot, range, reshape, sgd, stack, sum, tensor, transpose, uniform, where, zeros,
} from "@neurite/core";
import { expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";

type ErrorClass = typeof ShapeError | typeof ArgumentError;
type Case = [what: string, run: () => unknown, kind: ErrorClass, message: string | RegExp];

function cases(): Case[] {
  const a = zeros([2, 3]);
  const b = zeros([4]);
  return [
    // shape mismatches: the op and both shapes
    ["add", () => add(a, b), ShapeError, "add: shapes [2, 3] and [4] cannot be broadcast together (axis 1 of the result: 3 vs 4); sizes must match or be 1"],
    ["div", () => div(b, a), ShapeError, /div: shapes \[4\] and \[2, 3\]/],
    ["where", () => where(zeros([5]), a, 0), ShapeError, /where: shapes \[5\] and \[2, 3\] cannot be broadcast/],
    ["matmul", () => matmul(a, a), ShapeError, "matmul: cannot multiply [2, 3] by [2, 3]: inner sizes 3 and 2 differ"],
    ["concat", () => concat([a, b]), ShapeError, "concat: shapes [2, 3], [4] differ outside axis 0"],
    ["stack", () => stack([a, zeros([3, 2])]), ShapeError, /concat: shapes \[1, 2, 3\], \[1, 3, 2\]/],
    ["reshape", () => reshape(a, [4, -1]), ShapeError, "reshape: cannot reshape [2, 3] (6 elements) into [4, -1]"],
    ["reshape size", () => reshape(a, [7]), ShapeError, /cannot reshape \[2, 3\] \(6 elements\) into \[7\]/],
    // a shape that is not an array is named, not a TypeError from inside reshape
    ["reshape non-array", () => reshape(a, "6" as unknown as number[]), ArgumentError, 'reshape: new shape must be an array of non-negative integers (one may be -1), got "6"'],
    ["mse", () => mse(a, zeros([3, 2])), ShapeError, "mse: targets [2, 3] and predictions [3, 2] must have the same shape"],
    ["tensor", () => tensor([1, 2, 3], [2]), ShapeError, /3 values cannot fill shape \[2\]/],
    // axes: the op, the axis and the valid range
    ["sum axis", () => sum(a, 2), ArgumentError, "sum: axis must be an integer in [-2, 1] for a rank-2 tensor, got 2"],
    ["logSumExp axis", () => logSumExp(a, -3), ArgumentError, /logSumExp: axis must be an integer in \[-2, 1\].*got -3/],
    ["gather axis", () => gather(a, [0], 5), ArgumentError, /gather: axis .* got 5/],
    ["concat axis", () => concat([a, a], 2), ArgumentError, /concat: axis .* got 2/],
    ["narrow window", () => narrow(a, 1, 2, 2), ArgumentError, /start=2, length=2 must be integers selecting inside axis 1 of size 3/],
    ["repeated axes", () => sum(a, [1, -1]), ArgumentError, "sum: axes must not repeat, got [1,-1]"],
    ["transpose perm", () => transpose(a, [1]), ArgumentError, /perm must be a permutation of 0\.\.1 for shape \[2, 3\], got \[1\]/],
    // invalid arguments: the argument and its value
    ["fill shape", () => fill([2, -1], 0), ArgumentError, "shape must be an array of non-negative integers, got [2,-1]"],
    ["range step", () => range(0, 3, Infinity), ArgumentError, "range: step must be a finite non-zero number, got Infinity"],
    ["oneHot depth", () => oneHot([1], -3), ArgumentError, "oneHot: depth must be a positive integer, got -3"],
    ["uniform bounds", () => uniform([2], { min: 1, max: 0 }), ArgumentError, "uniform: min must be <= max, got min=1, max=0"],
    ["normal std", () => normal([2], { std: -0.5 }), ArgumentError, "normal: std must be >= 0, got -0.5"],
    ["clip bounds", () => a.clip(1, -1), ArgumentError, "clip: lo must be <= hi, got lo=1, hi=-1"],
    ["sgd lr", () => sgd({ lr: -1 }), ArgumentError, "sgd: lr must be a non-negative number, got -1"],
    ["operand type", () => add(a, null as never), ArgumentError, "add: operands must be tensors or numbers, got object"],
  ];
}

forEachBackend("errors", () => {
  test("every error is a NeuriteError of the right class with a message naming the op, shapes or value", () => {
    for (const [what, run, kind, message] of cases()) {
      let caught: unknown;
      try {
        run();
      } catch (e) {
        caught = e;
      }
      expect(caught, `${what} must throw`).toBeInstanceOf(kind);
      expect(caught, what).toBeInstanceOf(NeuriteError);
      const msg = (caught as Error).message;
      if (typeof message === "string") expect(msg, what).toContain(message);
      else expect(msg, what).toMatch(message);
      expect((caught as Error).name).toBe(kind.name);
    }
  });

  test("a failing op leaves memory exactly as it was", () => {
    const a = ones([2, 3]);
    const b = ones([4]);
    const before = memory();
    const failing = [() => add(a, b), () => matmul(a, a), () => concat([a, b]), () => reshape(a, [5]), () => sum(a, 3), () => gather(a, [7]), () => where(b, a, 1)];
    for (const run of failing) expect(run).toThrow();
    expect(memory()).toEqual(before);
  });
});
