import { MATMUL_MC, matmulRows } from "./matmul";

// im2col and col2im over NHWC images: a window's taps are runs of `channels` contiguous floats (and, at
// dilation 1, the taps of one kernel row inside the image are one run of kernelWidth·channels floats), so
// im2col is a sequence of copies (and fills with the padding value) and col2im a sequence of f32x4 accumulations.

/** Runs shorter than this many bytes are copied with v128 loads and stores; longer ones with memory.copy. */
const SHORT_RUN: usize = 256;

// @ts-ignore: decorator
@inline function copyRun(dst: usize, src: usize, bytes: usize): void {
  if (bytes >= SHORT_RUN) {
    memory.copy(dst, src, bytes);
    return;
  }
  const b16 = bytes & ~(<usize>15);
  let o: usize = 0;
  for (; o < b16; o += 16) v128.store(dst + o, v128.load(src + o));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(src + o));
}

/** Fills `bytes` at dst with the f32 `value` (memory.fill for a long run of +0, whose bytes are all zero). */
// @ts-ignore: decorator
@inline function fillRun(dst: usize, bytes: usize, value: f32): void {
  if (bytes >= SHORT_RUN && reinterpret<u32>(value) == 0) {
    memory.fill(dst, 0, bytes);
    return;
  }
  const splat = f32x4.splat(value);
  const b16 = bytes & ~(<usize>15);
  let o: usize = 0;
  for (; o < b16; o += 16) v128.store(dst + o, splat);
  for (; o < bytes; o += 4) store<f32>(dst + o, value);
}

// @ts-ignore: decorator
@inline function addRun(dst: usize, src: usize, bytes: usize): void {
  const b16 = bytes & ~(<usize>15);
  let o: usize = 0;
  for (; o < b16; o += 16) v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
}

/**
 * Rows [r0, r1) of the patch matrix [batch·oh·ow, kh·kw·c] of x [batch, h, w, c] (taps in the padding read
 * `pad`) into dst, row r0 first; the geometry is checked by the caller (core's patchSizes and the buffer sizes).
 */
function im2colRows(
  x: usize, dst: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, r0: i32, r1: i32, pad: f32,
): void {
  const run = (<usize>c) << 2;
  const pixelRow = (<usize>w) * run;
  const kernelRow = (<usize>kw) * run;
  const perImage = oh * ow;
  let n = r0 / perImage;
  let y = (r0 - n * perImage) / ow;
  let xo = r0 - n * perImage - y * ow;
  for (let r = r0; r < r1; r++) {
    const image = x + (<usize>n) * (<usize>h) * pixelRow;
    const ih0 = y * sh - padTop;
    const iw0 = xo * sw - padLeft;
    // the kernel row's taps are one contiguous run when undilated and wholly inside the image
    const whole = dw == 1 && iw0 >= 0 && iw0 + kw <= w;
    for (let i = 0; i < kh; i++) {
      const ih = ih0 + i * dh;
      if (ih < 0 || ih >= h) {
        fillRun(dst, kernelRow, pad);
      } else if (whole) {
        copyRun(dst, image + (<usize>ih) * pixelRow + (<usize>iw0) * run, kernelRow);
      } else {
        const rowStart = image + (<usize>ih) * pixelRow;
        for (let j = 0; j < kw; j++) {
          const iw = iw0 + j * dw;
          if (iw < 0 || iw >= w) fillRun(dst + (<usize>j) * run, run, pad);
          else copyRun(dst + (<usize>j) * run, rowStart + (<usize>iw) * run, run);
        }
      }
      dst += kernelRow;
    }
    if (++xo == ow) {
      xo = 0;
      if (++y == oh) {
        y = 0;
        n++;
      }
    }
  }
}

/** out [batch·oh·ow, kh·kw·c] = the windows of x [batch, h, w, c] (taps in the padding read `pad`). */
export function im2col(
  x: usize, out: usize, batch: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, pad: f32,
): void {
  im2colRows(x, out, h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, 0, batch * oh * ow, pad);
}

/**
 * Rows [i0, i1) of out [batch·oh·ow, n] = im2col(x) · B, B's n columns packed by matmulPackB: each block of
 * MATMUL_MC patch rows is extracted into `rows` (MATMUL_MC·kh·kw·c floats of the caller's scratch, so it stays
 * in cache) and multiplied there, so the patch matrix is never materialised. `ap` is matmulRows' scratch.
 */
export function im2colMatmulRows(
  x: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32,
  oh: i32, ow: i32, bp: usize, out: usize, n: i32, i0: i32, i1: i32, rows: usize, ap: usize,
): void {
  const k = kh * kw * c;
  for (let ic = i0; ic < i1; ic += MATMUL_MC) {
    const ie = min(i1, ic + MATMUL_MC);
    im2colRows(x, rows, h, w, c, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, ic, ie, 0); // a convolution's zero padding
    matmulRows(rows, k, 1, bp, out + (<usize>ic) * (<usize>n) * 4, n, n, k, 0, ie - ic, ap);
  }
}

/** out [batch, h, w, c] = 0, then each element of cols [batch·oh·ow, kh·kw·c] added where im2col read it from. */
export function col2im(
  cols: usize, out: usize, batch: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
): void {
  const run = (<usize>c) << 2;
  const pixelRow = (<usize>w) * run;
  const kernelRow = (<usize>kw) * run;
  memory.fill(out, 0, (<usize>batch) * (<usize>h) * pixelRow);
  let src = cols;
  for (let n = 0; n < batch; n++) {
    const image = out + (<usize>n) * (<usize>h) * pixelRow;
    for (let y = 0; y < oh; y++) {
      const ih0 = y * sh - padTop;
      for (let xo = 0; xo < ow; xo++) {
        const iw0 = xo * sw - padLeft;
        const whole = dw == 1 && iw0 >= 0 && iw0 + kw <= w;
        for (let i = 0; i < kh; i++) {
          const ih = ih0 + i * dh;
          if (ih >= 0 && ih < h) {
            const rowStart = image + (<usize>ih) * pixelRow;
            if (whole) {
              addRun(rowStart + (<usize>iw0) * run, src, kernelRow);
            } else {
              for (let j = 0; j < kw; j++) {
                const iw = iw0 + j * dw;
                if (iw >= 0 && iw < w) addRun(rowStart + (<usize>iw) * run, src + (<usize>j) * run, run);
              }
            }
          }
          src += kernelRow;
        }
      }
    }
  }
}
