import type { GatherArgs, ScatterAddArgs } from "@neurite/core";
import { dataOf } from "./memory.js";

/** Copying a slice with set(subarray) pays for its two views only past this length. */
const SET_MIN = 64;

function checkIndex(kernel: string, indices: Float32Array, c: number, axisSize: number): number {
  const idx = indices[c]!;
  if (!Number.isInteger(idx) || idx < 0 || idx >= axisSize) {
    throw new RangeError(`cpu ${kernel}: index ${idx} at position ${c} is out of range for an axis of size ${axisSize} (indices must be integers in [0, ${axisSize}))`);
  }
  return idx;
}

function checkSizes(kernel: string, what: string, data: Float32Array, need: number): void {
  if (data.length < need) throw new RangeError(`cpu ${kernel}: ${what} holds ${data.length} values, fewer than the ${need} needed`);
}

/** x [outer, axisSize, inner], indices [count] → out [outer, count, inner]. */
export function gather(args: GatherArgs): void {
  const { outer, axisSize, inner, count } = args;
  const x = dataOf(args.x, "x");
  const indices = dataOf(args.indices, "indices");
  const out = dataOf(args.out, "out");
  checkSizes("gather", "x", x, outer * axisSize * inner);
  checkSizes("gather", "indices", indices, count);
  checkSizes("gather", "out", out, outer * count * inner);
  // validate every index before writing anything
  for (let c = 0; c < count; c++) checkIndex("gather", indices, c, axisSize);
  if (inner === 0) return;
  for (let o = 0; o < outer; o++) {
    const xo = o * axisSize * inner;
    let q = o * count * inner;
    for (let c = 0; c < count; c++, q += inner) {
      const p = xo + indices[c]! * inner;
      if (inner === 1) out[q] = x[p]!;
      else if (inner >= SET_MIN) out.set(x.subarray(p, p + inner), q);
      else for (let i = 0; i < inner; i++) out[q + i] = x[p + i]!;
    }
  }
}

/** out [outer, axisSize, inner] = 0, then out[o, idx[c], i] += src[o, c, i]. */
export function scatterAdd(args: ScatterAddArgs): void {
  const { outer, axisSize, inner, count } = args;
  const src = dataOf(args.src, "src");
  const indices = dataOf(args.indices, "indices");
  const out = dataOf(args.out, "out");
  checkSizes("scatterAdd", "src", src, outer * count * inner);
  checkSizes("scatterAdd", "indices", indices, count);
  checkSizes("scatterAdd", "out", out, outer * axisSize * inner);
  for (let c = 0; c < count; c++) checkIndex("scatterAdd", indices, c, axisSize);
  out.fill(0, 0, outer * axisSize * inner);
  for (let o = 0; o < outer; o++) {
    const oo = o * axisSize * inner;
    let p = o * count * inner;
    for (let c = 0; c < count; c++, p += inner) {
      const q = oo + indices[c]! * inner;
      for (let i = 0; i < inner; i++) out[q + i] = out[q + i]! + src[p + i]!;
    }
  }
}
