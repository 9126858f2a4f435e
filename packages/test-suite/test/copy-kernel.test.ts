/** The optional `copy` kernel (what a compiled step copies each batch in with): exact, bounded, on every backend. */
import { getBackend } from "@neurite/core";
import { TestRng } from "@neurite/test-support";
import { expect, test } from "vitest";
import { forEachBackend } from "../src/backends.js";

forEachBackend("copy kernel", () => {
  test("copies the first `size` values bit for bit (NaN, -0 and subnormals included) and leaves the rest of out alone", () => {
    const b = getBackend();
    const copy = b.kernels?.copy;
    expect(copy).toBeTypeOf("function");
    const values = new TestRng(3).values(37, -1e30, 1e30).map((v, i) => (i === 3 ? NaN : i === 4 ? -0 : i === 5 ? 1e-40 : v));
    const x = b.upload(Float32Array.from(values));
    const out = b.upload(new Float32Array(40).fill(7));
    copy!({ x, out, size: 30 });
    const got = b.read(out);
    const expected = Float32Array.from(values).subarray(0, 30);
    expect(Array.from(got.subarray(0, 30)).map((v) => Object.is(v, -0) ? "-0" : v)).toEqual(Array.from(expected).map((v) => Object.is(v, -0) ? "-0" : v));
    expect(Array.from(got.subarray(30))).toEqual(new Array(10).fill(7));
    b.free(x);
    b.free(out);
  });

  test("xOffset starts the copy inside x (rows of a larger tensor)", () => {
    const b = getBackend();
    const x = b.upload(Float32Array.from({ length: 20 }, (_, i) => i + 0.5));
    const out = b.upload(new Float32Array(6));
    b.kernels!.copy!({ x, xOffset: 12, out, size: 6 });
    expect(Array.from(b.read(out))).toEqual([12.5, 13.5, 14.5, 15.5, 16.5, 17.5]);
    expect(() => b.kernels!.copy!({ x, xOffset: 15, out, size: 6 })).toThrow(RangeError);
    expect(() => b.kernels!.copy!({ x, xOffset: -1, out, size: 2 })).toThrow(RangeError);
    b.free(x);
    b.free(out);
  });

  test("a size beyond either buffer is refused before anything is written", () => {
    const b = getBackend();
    const x = b.upload(new Float32Array([1, 2, 3]));
    const out = b.upload(new Float32Array([9, 9]));
    for (const size of [3, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => b.kernels!.copy!({ x, out, size }), String(size)).toThrow(RangeError);
    }
    expect(Array.from(b.read(out))).toEqual([9, 9]);
    b.free(x);
    b.free(out);
  });
});
