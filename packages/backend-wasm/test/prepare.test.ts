/**
 * Backend.prepare: a prepared call does exactly what the call does, again and again, on both backends; it reads
 * an elementwise call's scalars afresh at each run, and a prepared product survives its packing scratch being
 * reallocated by a larger product in between.
 */
import { type Backend, type DataId, type ElementwiseArgs, type MatmulEpilogueArgs, input, scalar } from "@neurite/core";
import { describe, expect, test } from "vitest";
import { backends, random } from "./helpers.js";

const contiguous = (id: DataId, shape: readonly number[]) => ({ id, offset: 0, strides: shape.length === 2 ? [shape[1]!, 1] : [1] });

describe.each(["cpu", "wasm"] as const)("%s backend: prepare", (name) => {
  const get = async (): Promise<Backend> => (await backends())[name];

  test("a prepared elementwise call equals the call, and reads its scalars array again at each run", async () => {
    const b = await get();
    const shape = [7, 13];
    const x = b.upload(random(91, 1));
    const y = b.upload(random(91, 2));
    const out = b.alloc(91);
    const direct = b.alloc(91);
    const scalars = [0.5];
    const args: ElementwiseArgs = { program: input(0).mul(scalar(0)).add(input(1).tanh()), inputs: [contiguous(x, shape), contiguous(y, shape)], scalars, shape, out: contiguous(out, shape) };
    const run = b.prepare!("elementwise", false, args)!;
    for (const s of [0.5, -3, 1e-3]) {
      scalars[0] = s;
      run();
      b.elementwise({ ...args, scalars: [s], out: contiguous(direct, shape) });
      expect(Array.from(b.read(out))).toEqual(Array.from(b.read(direct)));
    }
    for (const id of [x, y, out, direct]) b.free(id);
  });

  test("a prepared product (with bias and activation) equals the call, also after a larger product reallocated the scratch", async () => {
    const b = await get();
    const [m, k, n] = [10, 6, 9];
    const a = b.upload(random(m * k, 3));
    const w = b.upload(random(k * n, 4));
    const bias = b.upload(random(n, 5));
    const out = b.alloc(m * n);
    const direct = b.alloc(m * n);
    const pre = b.alloc(m * n);
    const args: MatmulEpilogueArgs = {
      a, b: w, out, batch: 1, m, n, k, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0,
      bias, activation: input(0).tanh(), scalars: [], preActivation: pre,
    };
    const run = b.prepare?.("matmulEpilogue", true, args) ?? (() => b.kernels!.matmulEpilogue!(args));
    const check = (): void => {
      run();
      b.kernels!.matmulEpilogue!({ ...args, out: direct });
      expect(Array.from(b.read(out))).toEqual(Array.from(b.read(direct)));
    };
    check();
    // a larger product in between: on wasm its packed B needs more scratch than the prepared call's
    const big = 300;
    const x = b.upload(random(big * big, 6));
    const y = b.alloc(big * big);
    b.matmul({ a: x, b: x, out: y, batch: 1, m: big, n: big, k: big, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0 });
    check();
    check();
    for (const id of [a, w, bias, out, direct, pre, x, y]) b.free(id);
  });
});
