import type { Im2colArgs, PatchGeometry, StridedView } from "./contract.js";

/** A kernel layout with size-1 axes dropped and neighbouring axes merged wherever every operand allows it. */
export interface CollapsedLayout {
  readonly shape: number[];
  /** strides[k] for operand k, one per collapsed axis. */
  readonly strides: number[][];
}

/**
 * Merges axis d into d−1 when, for every operand, stride[d−1] = stride[d]·shape[d] (contiguous together, or
 * both broadcast). Fewer axes mean longer inner loops and, for plain contiguous data, one flat loop: a helper
 * for backends implementing `elementwise`.
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[]): CollapsedLayout {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue; // a size-1 axis never moves the pointers
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * size)) {
      dims[last]! *= size;
      for (let k = 0; k < strides.length; k++) st[k]![last] = strides[k]![d]!;
    } else {
      dims.push(size);
      for (let k = 0; k < strides.length; k++) st[k]!.push(strides[k]![d]!);
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: st };
}

/**
 * Throws a RangeError unless every element `view` reaches over `shape` lies inside a buffer of `size`
 * elements: backends check views before running generated code over raw memory.
 */
export function checkViewBounds(view: StridedView, size: number, shape: readonly number[], what: string): void {
  if (view.strides.length !== shape.length) {
    throw new RangeError(`${what} has ${view.strides.length} strides for a shape of rank ${shape.length}`);
  }
  let lo = view.offset;
  let hi = view.offset;
  for (let d = 0; d < shape.length; d++) {
    const span = (shape[d]! - 1) * view.strides[d]!;
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= size || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new RangeError(`${what} reaches elements [${lo}, ${hi}] of a buffer of ${size}`);
  }
}

/** The element counts of an im2col / col2im call (see {@link PatchGeometry}). */
export interface PatchSizes {
  /** batch·height·width·channels: the image. */
  readonly imageSize: number;
  /** batch·outHeight·outWidth: the rows of the patch matrix. */
  readonly rows: number;
  /** kernelHeight·kernelWidth·channels: its columns. */
  readonly cols: number;
  /** rows·cols. */
  readonly patchSize: number;
}

const PATCH_FIELDS = [
  "batch", "height", "width", "channels", "kernelHeight", "kernelWidth", "strideHeight", "strideWidth",
  "dilationHeight", "dilationWidth", "padTop", "padLeft", "outHeight", "outWidth",
] as const satisfies readonly (keyof PatchGeometry)[];
const AT_LEAST_ONE: ReadonlySet<keyof PatchGeometry> = new Set(["kernelHeight", "kernelWidth", "strideHeight", "strideWidth", "dilationHeight", "dilationWidth"]);

/**
 * Checks a {@link PatchGeometry} and returns its sizes, for backends implementing im2col and col2im: throws a
 * RangeError naming the field unless every field is a non-negative safe integer (kernel sizes, strides and
 * dilations ≥ 1) and every size and input coordinate the kernel computes is a safe integer, so a kernel can
 * trust the sizes before it touches memory.
 */
export function patchSizes(g: PatchGeometry, kernel: string): PatchSizes {
  for (const f of PATCH_FIELDS) {
    const v = g[f];
    const min = AT_LEAST_ONE.has(f) ? 1 : 0;
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${kernel}: ${f} must be an integer ≥ ${min}, got ${v}`);
  }
  const safe = (what: string, v: number): number => {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${kernel}: ${what} (${v}) is not a safe integer`);
    return v;
  };
  safe("the largest input row read", g.outHeight * g.strideHeight + g.kernelHeight * g.dilationHeight);
  safe("the largest input column read", g.outWidth * g.strideWidth + g.kernelWidth * g.dilationWidth);
  const imageSize = safe("batch·height·width·channels", g.batch * g.height * g.width * g.channels);
  const rows = safe("batch·outHeight·outWidth", g.batch * g.outHeight * g.outWidth);
  const cols = safe("kernelHeight·kernelWidth·channels", g.kernelHeight * g.kernelWidth * g.channels);
  return { imageSize, rows, cols, patchSize: safe("the patch matrix's size", rows * cols) };
}

/**
 * The value im2col writes for a tap in the padding ({@link Im2colArgs.padValue}): 0 when absent. Throws a
 * RangeError unless it is a number (any float, NaN and ±Infinity included), for backends implementing im2col.
 */
export function patchPadValue(args: Pick<Im2colArgs, "padValue">, kernel: string): number {
  const v: unknown = args.padValue;
  if (v === undefined) return 0;
  if (typeof v !== "number") throw new RangeError(`${kernel}: padValue must be a number (0 for a convolution, −Infinity for max pooling), got ${typeof v}`);
  return v;
}

/**
 * Calls `run(patchOffset, imageOffset)` for every (output position, kernel tap) pair of a {@link PatchGeometry},
 * in im2col's row-major order: `patchOffset` is where the tap's run of `channels` values starts in the patch
 * matrix, `imageOffset` where the input pixel's run starts in the NHWC image, or −1 where the tap falls in the
 * padding. The plain loop behind a backend's im2col and col2im (coordinates in exact double arithmetic, so any
 * geometry {@link patchSizes} accepts works).
 */
export function forEachPatchRun(g: PatchGeometry, run: (patchOffset: number, imageOffset: number) => void): void {
  const { batch, height, width, channels, kernelHeight, kernelWidth, outHeight, outWidth } = g;
  let row = 0;
  for (let n = 0; n < batch; n++) {
    const image = n * height * width * channels;
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        for (let i = 0; i < kernelHeight; i++) {
          const ih = y * g.strideHeight - g.padTop + i * g.dilationHeight;
          const rowInside = ih >= 0 && ih < height;
          for (let j = 0; j < kernelWidth; j++, row += channels) {
            const iw = x * g.strideWidth - g.padLeft + j * g.dilationWidth;
            run(row, rowInside && iw >= 0 && iw < width ? image + (ih * width + iw) * channels : -1);
          }
        }
      }
    }
  }
}
