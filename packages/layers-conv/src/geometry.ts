import { ArgumentError, MAX_TENSOR_ELEMENTS, ShapeError } from "@neurite/core";

/** How the borders are handled: "valid" (no padding) or "same" (zero padding so that out = ceil(in / stride)). */
export type Padding = "valid" | "same";

/** A size per spatial axis: one number for both, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Where a window of one spatial axis starts and how many outputs the axis has. */
export interface AxisGeometry {
  /** Input size. */
  readonly size: number;
  /** Output size. */
  readonly out: number;
  /** Zero rows added before the input (the rest of the padding goes after, as TensorFlow does). */
  readonly padBefore: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
}

/** A short, exact description of a user value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return JSON.stringify(v.slice(0, 8)) + (v.length > 8 ? ` (${v.length} entries)` : "");
  return typeof v;
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

const positiveInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;

/** Reads a size per spatial axis (one positive integer for both, or [h, w]) for `what`. */
export function readPair(what: string, v: unknown): [number, number] {
  if (positiveInt(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && positiveInt(v[0]) && positiveInt(v[1])) return [v[0], v[1]];
  throw new ArgumentError(`${what} must be a positive integer or [height, width] of positive integers, got ${describe(v)}`);
}

export function readPadding(what: string, v: unknown): Padding {
  if (v === "valid" || v === "same") return v;
  throw new ArgumentError(`${what} must be "valid" or "same", got ${describe(v)}`);
}

/**
 * The output size and padding of one spatial axis, with TensorFlow's conventions: "valid" keeps the windows that
 * fit, "same" gives ceil(size / stride) outputs with the padding split evenly (the extra row after).
 */
export function axisGeometry(what: string, size: number, kernel: number, stride: number, dilation: number, padding: Padding): AxisGeometry {
  const span = (kernel - 1) * dilation + 1;
  if (!Number.isSafeInteger(span)) throw new ArgumentError(`${what}: the dilated kernel ((${kernel} − 1)·${dilation} + 1) is too large`);
  if (padding === "valid") {
    if (span > size) {
      throw new ShapeError(`${what}: the window (kernel ${kernel}, dilation ${dilation}, span ${span}) is larger than the input size ${size} with padding "valid"; use a smaller kernel or padding "same"`);
    }
    return { size, out: Math.floor((size - span) / stride) + 1, padBefore: 0, kernel, stride, dilation };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  return { size, out, padBefore: Math.floor(total / 2), kernel, stride, dilation };
}

/**
 * Refuses, before anything is allocated, an im2col copy that no tensor can hold: batch × outH × outW × kH × kW ×
 * channels elements. (Float products only grow past the limit, so an overflow is refused too.)
 */
export function checkPatchSize(what: string, rows: AxisGeometry, cols: AxisGeometry, batch: number, channels: number): void {
  const elements = batch * rows.out * cols.out * rows.kernel * cols.kernel * channels;
  if (!(elements <= MAX_TENSOR_ELEMENTS)) {
    throw new ShapeError(
      `${what}: the windows need ${batch}×${rows.out}×${cols.out} positions × ${rows.kernel}×${cols.kernel} taps × ${channels} channels = ${elements} elements, ` +
        `more than a tensor can hold (${MAX_TENSOR_ELEMENTS}); use a smaller kernel, a larger stride or a smaller batch`,
    );
  }
}

/**
 * The im2col index of every (output position, kernel tap) pair, row-major over [outH, outW, kH, kW]: the input
 * pixel's flat index h·W + w, or `H·W` (a zero row appended by the caller) where the tap falls in the padding.
 */
export function patchIndices(rows: AxisGeometry, cols: AxisGeometry): { indices: Float32Array; padded: boolean } {
  const count = rows.out * cols.out * rows.kernel * cols.kernel;
  checkPatchSize("im2col", rows, cols, 1, 1);
  const zero = rows.size * cols.size;
  // core's gather takes float32 indices: every pixel index (and the padding row's) must be exact in float32
  if (zero + 1 > 2 ** 24) {
    throw new ShapeError(`im2col: an image of ${rows.size}×${cols.size} pixels has more than 2^24 pixels, which float32 indices cannot address exactly; split the image into tiles`);
  }
  const indices = new Float32Array(count);
  let padded = false;
  let at = 0;
  for (let oh = 0; oh < rows.out; oh++) {
    for (let ow = 0; ow < cols.out; ow++) {
      for (let kh = 0; kh < rows.kernel; kh++) {
        const ih = oh * rows.stride - rows.padBefore + kh * rows.dilation;
        for (let kw = 0; kw < cols.kernel; kw++) {
          const iw = ow * cols.stride - cols.padBefore + kw * cols.dilation;
          const inside = ih >= 0 && ih < rows.size && iw >= 0 && iw < cols.size;
          if (!inside) padded = true;
          indices[at++] = inside ? ih * cols.size + iw : zero;
        }
      }
    }
  }
  return { indices, padded };
}
