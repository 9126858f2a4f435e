import {
  type Backend, type PatchGeometry, type Tensor, concat, customVjp, fill, forEachPatchRun, fromValues, gather, getBackend,
  matmul, onActiveBackend, produce, releaseTemporaries, reshape,
} from "@neurite/core";
import { type AxisGeometry, checkPatchSize, patchIndices } from "./geometry.js";

/** Marks a tensor as an intermediate of the op being composed; returns it. */
export type Track = <T extends Tensor>(t: T) => T;

/**
 * Runs an op composed of core ops and frees its intermediates (those passed to `track`): all of them when the
 * result is not in a gradient graph; none when it is, since the backward pass reads them (the gradient's scope
 * frees them afterwards). A failure frees them too, so a failed call leaks nothing.
 */
export function composed(build: (track: Track) => Tensor): Tensor {
  const made: Tensor[] = [];
  const track: Track = (t) => {
    made.push(t);
    return t;
  };
  let result: Tensor;
  try {
    result = build(track);
  } catch (e) {
    for (const t of made) if (!t.requiresGrad) t.dispose();
    throw e;
  }
  return releaseTemporaries(result, ...made.filter((t) => t !== result));
}

/**
 * im2col from core ops: the windows of an NHWC input as [batch, outH·outW, kH·kW, channels], built by one
 * `gather` over the flattened pixels (plus one appended row of `padValue` where a tap falls in the padding).
 * Autograd derives the backward (gather's scatter-add, concat's narrow).
 */
export function extractPatches(x: Tensor, rows: AxisGeometry, cols: AxisGeometry, track: Track, padValue = 0): Tensor {
  const [batch, , , channels] = x.shape as [number, number, number, number];
  checkPatchSize("im2col", rows, cols, batch, channels);
  const { indices, padded } = patchIndices(rows, cols);
  const pixels = track(reshape(x, [batch, rows.size * cols.size, channels]));
  const source = padded ? track(concat([pixels, track(fill([batch, 1, channels], padValue))], 1)) : pixels;
  const taps = track(gather(source, track(fromValues(indices, [indices.length])), 1));
  return track(reshape(taps, [batch, rows.out * cols.out, rows.kernel * cols.kernel, channels]));
}

/** The backend kernels of the im2col fast path, where the active backend has both. */
export type PatchKernels = Required<Pick<NonNullable<Backend["kernels"]>, "im2col" | "col2im">>;

/** The active backend's im2col and col2im kernels, or undefined where it lacks either (the composed path runs). */
export function patchKernels(backend: Backend = getBackend()): PatchKernels | undefined {
  const k = backend.kernels;
  return k?.im2col && k.col2im ? { im2col: k.im2col, col2im: k.col2im } : undefined;
}

/** The backend contract's geometry of a window over an NHWC batch. */
export function patchGeometry(batch: number, channels: number, rows: AxisGeometry, cols: AxisGeometry): PatchGeometry {
  return {
    batch, height: rows.size, width: cols.size, channels, kernelHeight: rows.kernel, kernelWidth: cols.kernel,
    strideHeight: rows.stride, strideWidth: cols.stride, dilationHeight: rows.dilation, dilationWidth: cols.dilation,
    padTop: rows.padBefore, padLeft: cols.padBefore, outHeight: rows.out, outWidth: cols.out,
  };
}

/**
 * A convolution's product without groups, [batch·outH·outW, filters] = im2col(x) · W for `flatKernel` W
 * [kH·kW·channels, filters], by the backend's `im2colMatmul` (the patch matrix never materialised), with its
 * backward: dX = col2im(dY·Wᵀ) and dW = im2col(x)ᵀ·dY (the patches extracted again, only then, and freed).
 */
export function kernelConvolution(x: Tensor, flatKernel: Tensor, rows: AxisGeometry, cols: AxisGeometry, kernels: PatchKernels & { readonly im2colMatmul: NonNullable<NonNullable<Backend["kernels"]>["im2colMatmul"]> }): Tensor {
  const [batch, , , channels] = x.shape as [number, number, number, number];
  const filters = flatKernel.shape[1]!;
  const geometry = patchGeometry(batch, channels, rows, cols);
  const op = customVjp<[Tensor, Tensor]>({
    forward: (input, w) => {
      onActiveBackend(input, "conv2d");
      onActiveBackend(w, "conv2d");
      const output = produce([batch * rows.out * cols.out, filters], (out) => kernels.im2colMatmul({ ...geometry, x: input.storage.id, b: w.storage.id, n: filters, out }));
      return { output };
    },
    backward: (g, _residuals, input, w) => {
      let dx: Tensor | undefined;
      let dw: Tensor | undefined;
      if (input.requiresGrad) {
        const dPatches = matmul(g, w, { transposeB: true });
        try {
          dx = col2imOf(dPatches, geometry);
        } finally {
          dPatches.dispose();
        }
      }
      if (w.requiresGrad) {
        checkPatchSize("im2col", rows, cols, batch, channels);
        const patches = patchesOf(input, geometry, rows, cols);
        try {
          dw = matmul(patches, g, { transposeA: true });
        } finally {
          patches.dispose();
        }
      }
      return [dx, dw];
    },
  }, "conv2d");
  return op(x, flatKernel);
}

/** The patch matrix of `x` on the active backend, by its im2col kernel or (without one) the composed gather. */
function patchesOf(x: Tensor, geometry: PatchGeometry, rows: AxisGeometry, cols: AxisGeometry): Tensor {
  const backend = getBackend();
  const kernels = patchKernels(backend);
  const shape = [geometry.batch * geometry.outHeight * geometry.outWidth, geometry.kernelHeight * geometry.kernelWidth * geometry.channels];
  onActiveBackend(x, "conv2d backward");
  if (kernels) return produce(shape, (out) => kernels.im2col({ ...geometry, x: x.storage.id, out }), backend);
  return composed((track) => reshape(extractPatches(x, rows, cols, track), shape));
}

/**
 * col2im of `g` on the active backend: its kernel where it has one, else an exact host loop (a backend that
 * lacks the kernel at backward time: the one active at forward time had it).
 */
function col2imOf(g: Tensor, geometry: PatchGeometry): Tensor {
  const backend = getBackend();
  const shape = [geometry.batch, geometry.height, geometry.width, geometry.channels];
  onActiveBackend(g, "conv2d backward");
  const kernels = patchKernels(backend);
  if (kernels) return produce(shape, (out) => kernels.col2im({ ...geometry, cols: g.storage.id, out }), backend);
  const cols = g.dataSync();
  const image = new Float32Array(shape[0]! * shape[1]! * shape[2]! * shape[3]!);
  const c = geometry.channels;
  forEachPatchRun(geometry, (row, dst) => {
    if (dst >= 0) for (let k = 0; k < c; k++) image[dst + k]! += cols[row + k]!;
  });
  return fromValues(image, shape);
}

/**
 * im2col by the backend's kernel: the windows of NHWC `x` as the matrix [batch·outH·outW, kH·kW·channels] (the
 * layout of {@link extractPatches} reshaped to 2-D), taps in the padding reading `padValue`, with the backend's
 * col2im as the backward pass (the padding taps' gradient dropped). `kernels` are the active backend's
 * ({@link patchKernels}); `op` names the caller in errors.
 */
export function kernelPatches(x: Tensor, rows: AxisGeometry, cols: AxisGeometry, kernels: PatchKernels, padValue = 0, op = "conv2d"): Tensor {
  const [batch, , , channels] = x.shape as [number, number, number, number];
  checkPatchSize(`${op} im2col`, rows, cols, batch, channels);
  const geometry = patchGeometry(batch, channels, rows, cols);
  const shape = [batch * rows.out * cols.out, rows.kernel * cols.kernel * channels];
  // only a non-zero padding is passed on: a convolution's call reads exactly as before
  const pad = Object.is(padValue, 0) ? {} : { padValue };
  const extract = customVjp<[Tensor]>({
    forward: (input) => {
      onActiveBackend(input, op);
      return { output: produce(shape, (out) => kernels.im2col({ ...geometry, ...pad, x: input.storage.id, out })) };
    },
    backward: (g) => [col2imOf(g, geometry)],
  }, "im2col");
  return extract(x);
}

/**
 * The windows of NHWC `x` as [batch, outH·outW, kH·kW, channels] (taps in the padding read `padValue`), for ops
 * that reduce over each window (pooling): by the active backend's im2col kernel, col2im its backward, where it
 * has both; else by {@link extractPatches}' gather. Both give the same values, and autograd the same gradients
 * through whatever reduction follows. The intermediates are passed to `track`.
 */
export function windowPatches(x: Tensor, rows: AxisGeometry, cols: AxisGeometry, track: Track, padValue: number, op: string): Tensor {
  const kernels = patchKernels();
  if (!kernels) return extractPatches(x, rows, cols, track, padValue);
  const [batch, , , channels] = x.shape as [number, number, number, number];
  const matrix = track(kernelPatches(x, rows, cols, kernels, padValue, op));
  return track(reshape(matrix, [batch, rows.out * cols.out, rows.kernel * cols.kernel, channels]));
}
