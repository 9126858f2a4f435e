/** Element counts at the edge of exact arithmetic: sizeOf refuses what no backend can index, checkBufferFits a backend's limit. */
import { describe, expect, test } from "vitest";
import { MAX_TENSOR_ELEMENTS, OutOfMemoryError, ShapeError, sizeOf, stridesOf } from "../src/index.js";
import type { Backend } from "../src/backend/contract.js";
import { checkBufferFits } from "../src/tensor/storage.js";

describe("sizeOf limits", () => {
  test("the limit is the largest count whose byte count (×4) is a safe integer", () => {
    expect(MAX_TENSOR_ELEMENTS).toBe(2 ** 51 - 1);
    expect(Number.isSafeInteger(MAX_TENSOR_ELEMENTS * 4)).toBe(true);
    expect(Number.isSafeInteger((MAX_TENSOR_ELEMENTS + 1) * 4 + 4)).toBe(false);
  });

  test("counts up to the limit are exact; one more is a ShapeError naming the shape and the limit", () => {
    expect(sizeOf([MAX_TENSOR_ELEMENTS])).toBe(MAX_TENSOR_ELEMENTS);
    expect(sizeOf([2 ** 24, 2 ** 24, 7])).toBe(7 * 2 ** 48);
    for (const shape of [[2 ** 51], [2 ** 26, 2 ** 26], [3, 2 ** 50], [2 ** 20, 2 ** 20, 2 ** 20], [2 ** 53 + 2], [Infinity]]) {
      expect(() => sizeOf(shape), JSON.stringify(shape)).toThrow(ShapeError);
      expect(() => sizeOf(shape)).toThrow(String(MAX_TENSOR_ELEMENTS));
    }
  });

  test("an empty tensor's other sizes are limited too, so that its strides stay exact", () => {
    expect(sizeOf([0, 2 ** 40])).toBe(0);
    expect(stridesOf([0, 2 ** 40])).toEqual([2 ** 40, 1]);
    for (const shape of [[0, 2 ** 60], [2 ** 60, 0], [0, 2 ** 30, 2 ** 30]]) {
      expect(() => sizeOf(shape), JSON.stringify(shape)).toThrow(/product of its non-zero sizes/);
    }
  });
});

describe("checkBufferFits", () => {
  const backend = (maxBufferBytes?: number): Backend => ({ name: "tiny", ...(maxBufferBytes === undefined ? {} : { maxBufferBytes }) }) as unknown as Backend;

  test("refuses more than the backend's buffer limit with the bytes, the limit and the backend", () => {
    expect(() => checkBufferFits(backend(4096), 1024, "uniform")).not.toThrow();
    let error: unknown;
    try {
      checkBufferFits(backend(4096), 1025, "uniform");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect(error).toMatchObject({ requestedBytes: 4100, limitBytes: 4096, backend: "tiny" });
    expect((error as Error).message).toMatch(/^uniform: 1025 float32 values need 4100 bytes, more than the 4096 bytes one buffer of the tiny backend can hold/);
  });

  test("a backend without a declared limit is left to refuse at allocation", () => {
    expect(() => checkBufferFits(backend(), 2 ** 50, "normal")).not.toThrow();
  });
});
