import type { DataId } from "@neurite/core";
import { TestRng } from "@neurite/test-support";
import { CpuBackend } from "../src/index.js";

/** Uniform draws in [0, 1) from the shared seeded test-input generator, so failures reproduce. */
export function rng(seed: number): () => number {
  const generator = new TestRng(seed);
  return () => generator.next();
}

/** size float32 values uniform in [-1, 1). */
export function randomArray(size: number, rand: () => number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rand() * 2 - 1;
  return a;
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/** Calls fn with every multi-index of shape, in row-major order. */
export function forEachIndex(shape: readonly number[], fn: (index: readonly number[], flat: number) => void): void {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

export function at(offset: number, strides: readonly number[], index: readonly number[]): number {
  let p = offset;
  for (let d = 0; d < index.length; d++) p += index[d]! * strides[d]!;
  return p;
}

export function setup(): { be: CpuBackend; up: (values: ArrayLike<number>) => DataId; read: (id: DataId) => number[] } {
  const be = new CpuBackend();
  return {
    be,
    up: (values) => be.upload(Float32Array.from(values)),
    read: (id) => Array.from(be.read(id)),
  };
}
