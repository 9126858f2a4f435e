import { type Col2imArgs, type Im2colArgs, forEachPatchRun, patchPadValue, patchSizes } from "@neurite/core";
import { dataOf } from "./memory.js";

/** Copying a run with set(subarray) pays for its two views only past this length (as in gather). */
const SET_MIN = 64;

function checkLength(kernel: string, what: string, data: Float32Array, need: number): void {
  if (data.length < need) throw new RangeError(`cpu ${kernel}: ${what} holds ${data.length} values, fewer than the ${need} needed`);
}

/** im2col over NHWC: see {@link Im2colArgs}; padding taps read `padValue` (default 0). */
export function im2col(args: Im2colArgs): void {
  const sizes = patchSizes(args, "cpu im2col");
  const x = dataOf(args.x, "x");
  const out = dataOf(args.out, "out");
  checkLength("im2col", "x", x, sizes.imageSize);
  checkLength("im2col", "out", out, sizes.patchSize);
  const padValue = patchPadValue(args, "cpu im2col");
  const c = args.channels;
  forEachPatchRun(args, (row, src) => {
    if (src < 0) out.fill(padValue, row, row + c);
    else if (c >= SET_MIN) out.set(x.subarray(src, src + c), row);
    else for (let k = 0; k < c; k++) out[row + k] = x[src + k]!;
  });
}

/** col2im over NHWC, im2col's adjoint: see {@link Col2imArgs}. */
export function col2im(args: Col2imArgs): void {
  const sizes = patchSizes(args, "cpu col2im");
  const cols = dataOf(args.cols, "cols");
  const out = dataOf(args.out, "out");
  checkLength("col2im", "cols", cols, sizes.patchSize);
  checkLength("col2im", "out", out, sizes.imageSize);
  const c = args.channels;
  out.fill(0, 0, sizes.imageSize);
  forEachPatchRun(args, (row, dst) => {
    if (dst < 0) return;
    for (let k = 0; k < c; k++) out[dst + k] = out[dst + k]! + cols[row + k]!;
  });
}
