/**
 * The optional im2col / col2im / im2colMatmul kernels of every backend that has them, called through the Backend contract:
 * against float64 direct loops written here, the adjoint identity ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, cpu/wasm
 * parity on random geometries (fast-check over strides, padding, dilation, odd sizes, batch 1), im2col's padValue
 * (max pooling's −Infinity, NaN, −0) with −Infinity and NaN pixels in the image, and the checks a kernel runs
 * before it touches memory.
 */
import { createWasmBackend } from "@neurite/backend-wasm";
import { type Backend, type PatchGeometry, backendInstance } from "@neurite/core";
import { TestRng } from "@neurite/test-support";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { BACKENDS, registerBackends } from "../src/backends.js";

/** A geometry with its output sizes derived from a padding after the image (so windows may run past the end). */
const geometryArb: fc.Arbitrary<PatchGeometry> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }), height: fc.integer({ min: 1, max: 9 }), width: fc.integer({ min: 1, max: 9 }),
    channels: fc.integer({ min: 1, max: 6 }), kernelHeight: fc.integer({ min: 1, max: 4 }), kernelWidth: fc.integer({ min: 1, max: 4 }),
    strideHeight: fc.integer({ min: 1, max: 3 }), strideWidth: fc.integer({ min: 1, max: 3 }),
    dilationHeight: fc.integer({ min: 1, max: 3 }), dilationWidth: fc.integer({ min: 1, max: 3 }),
    padTop: fc.integer({ min: 0, max: 4 }), padLeft: fc.integer({ min: 0, max: 4 }),
    padBottom: fc.integer({ min: 0, max: 4 }), padRight: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ padBottom, padRight, ...g }) => {
    const out = (size: number, before: number, after: number, k: number, s: number, d: number): number =>
      Math.max(0, Math.floor((size + before + after - ((k - 1) * d + 1)) / s) + 1);
    return {
      ...g,
      outHeight: out(g.height, g.padTop, padBottom, g.kernelHeight, g.strideHeight, g.dilationHeight),
      outWidth: out(g.width, g.padLeft, padRight, g.kernelWidth, g.strideWidth, g.dilationWidth),
    };
  });

const imageSize = (g: PatchGeometry): number => g.batch * g.height * g.width * g.channels;
const patchCols = (g: PatchGeometry): number => g.kernelHeight * g.kernelWidth * g.channels;
const patchSize = (g: PatchGeometry): number => g.batch * g.outHeight * g.outWidth * patchCols(g);

/** im2col by direct loops in float64: out[n, oh, ow][kh, kw, c] = x[n, ih, iw, c], `padValue` in the padding. */
function im2colRef(x: ArrayLike<number>, g: PatchGeometry, padValue = 0): Float64Array {
  const out = new Float64Array(patchSize(g)).fill(padValue);
  const cols = patchCols(g);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        const row = ((n * g.outHeight + oh) * g.outWidth + ow) * cols;
        for (let kh = 0; kh < g.kernelHeight; kh++) {
          for (let kw = 0; kw < g.kernelWidth; kw++) {
            const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
            const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
            if (ih < 0 || iw < 0 || ih >= g.height || iw >= g.width) continue;
            for (let c = 0; c < g.channels; c++) out[row + (kh * g.kernelWidth + kw) * g.channels + c] = x[((n * g.height + ih) * g.width + iw) * g.channels + c]!;
          }
        }
      }
    }
  }
  return out;
}

/** col2im by direct loops in float64: each patch value added to the pixel it came from. */
function col2imRef(cols: ArrayLike<number>, g: PatchGeometry): Float64Array {
  const out = new Float64Array(imageSize(g));
  const width = patchCols(g);
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      for (let ow = 0; ow < g.outWidth; ow++) {
        const row = ((n * g.outHeight + oh) * g.outWidth + ow) * width;
        for (let kh = 0; kh < g.kernelHeight; kh++) {
          for (let kw = 0; kw < g.kernelWidth; kw++) {
            const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padTop;
            const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padLeft;
            if (ih < 0 || iw < 0 || ih >= g.height || iw >= g.width) continue;
            for (let c = 0; c < g.channels; c++) out[((n * g.height + ih) * g.width + iw) * g.channels + c]! += cols[row + (kh * g.kernelWidth + kw) * g.channels + c]!;
          }
        }
      }
    }
  }
  return out;
}

function runIm2col(b: Backend, g: PatchGeometry, x: Float32Array, padValue?: number): Float32Array {
  const xid = b.upload(x);
  // garbage in the output buffer: the kernel must write every element, padding included
  const out = b.upload(new Float32Array(patchSize(g)).fill(Number.isNaN(padValue) ? 7 : Number.NaN));
  try {
    b.kernels!.im2col!({ ...g, x: xid, out, ...(padValue === undefined ? {} : { padValue }) });
    return b.read(out).subarray(0, patchSize(g));
  } finally {
    b.free(xid);
    b.free(out);
  }
}

function runCol2im(b: Backend, g: PatchGeometry, cols: Float32Array): Float32Array {
  const cid = b.upload(cols);
  const out = b.upload(new Float32Array(imageSize(g)).fill(Number.NaN));
  try {
    b.kernels!.col2im!({ ...g, cols: cid, out });
    return b.read(out).subarray(0, imageSize(g));
  } finally {
    b.free(cid);
    b.free(out);
  }
}

function runIm2colMatmul(b: Backend, g: PatchGeometry, x: Float32Array, w: Float32Array, n: number): Float32Array {
  const rows = g.batch * g.outHeight * g.outWidth;
  const [xid, wid] = [b.upload(x), b.upload(w)];
  const out = b.upload(new Float32Array(rows * n).fill(Number.NaN));
  try {
    b.kernels!.im2colMatmul!({ ...g, x: xid, b: wid, n, out });
    return b.read(out).subarray(0, rows * n);
  } finally {
    for (const id of [xid, wid, out]) b.free(id);
  }
}

/**
 * im2col(x)·w in float64 from the direct-loop patches, and each entry's error bound for a float32 product of
 * `cols` terms: (cols + 2)·2^-24·Σ|a·b|.
 */
function im2colMatmulRef(x: ArrayLike<number>, w: ArrayLike<number>, n: number, g: PatchGeometry): { want: Float64Array; bound: Float64Array } {
  const a = im2colRef(x, g);
  const k = patchCols(g);
  const rows = a.length / k;
  const want = new Float64Array(rows * n);
  const bound = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        s += a[i * k + p]! * w[p * n + j]!;
        abs += Math.abs(a[i * k + p]! * w[p * n + j]!);
      }
      want[i * n + j] = s;
      bound[i * n + j] = (k + 2) * 2 ** -24 * abs + 1e-30;
    }
  }
  return { want, bound };
}

const values = (rng: TestRng, n: number): Float32Array => Float32Array.from(rng.values(n, -2, 2));

/** Random values with about a quarter of them −Infinity, NaN, +Infinity or −0 (what max pooling meets). */
function specialValues(rng: TestRng, n: number): Float32Array {
  const x = values(rng, n);
  const specials = [-Infinity, Number.NaN, Infinity, -0];
  for (let i = 0; i < n; i++) if (rng.next() < 0.25) x[i] = specials[rng.int(specials.length)]!;
  return x;
}

/** The index of the first entry where `got` and `want` differ as float32 values (NaN equals NaN; −0 is not 0), or −1. */
function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return 0;
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], Math.fround(want[i]!))) return i;
  return -1;
}

/** Padding values im2col is asked to write: a convolution's, max pooling's, and edge cases of the float32 write. */
const PAD_VALUES = [0, -Infinity, Infinity, Number.NaN, -0, 2.5, 0.1] as const;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

registerBackends();
const instances = new Map<string, Backend>();
beforeAll(async () => {
  for (const name of BACKENDS) instances.set(name, await backendInstance(name));
});

describe.each(BACKENDS)("%s backend: im2col and col2im kernels", (name) => {
  const backend = (): Backend => instances.get(name)!;

  test("are declared as optional kernels", () => {
    expect(typeof backend().kernels?.im2colMatmul).toBe("function");
    expect(typeof backend().kernels?.im2col).toBe("function");
    expect(typeof backend().kernels?.col2im).toBe("function");
  });

  test("im2col copies the windows exactly and col2im sums them back within float32 rounding (float64 direct loops; fast-check)", () => {
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 1, max: 2 ** 30 }), (g, seed) => {
        const rng = new TestRng(seed);
        const x = values(rng, imageSize(g));
        expect(Array.from(runIm2col(backend(), g, x))).toEqual(Array.from(im2colRef(x, g)));
        const cols = values(rng, patchSize(g));
        const got = runCol2im(backend(), g, cols);
        const want = col2imRef(cols, g);
        const bound = col2imRef(cols.map(Math.abs), g);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(bound[i]! * 2 ** -21 + 1e-30);
      }),
      { numRuns: 150, seed: 16 },
    );
  });

  test("col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ in float64 (fast-check)", () => {
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 1, max: 2 ** 30 }), (g, seed) => {
        const rng = new TestRng(seed);
        const x = values(rng, imageSize(g));
        const c = values(rng, patchSize(g));
        const lhs = dot(runIm2col(backend(), g, x), c);
        const rhs = dot(x, runCol2im(backend(), g, c));
        // col2im rounds each pixel's sum once per added value: relative 2^-21 of the sum of |terms| bounds it
        const scale = dot(x.map(Math.abs), col2imRef(c.map(Math.abs), g));
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(scale * 2 ** -21 + 1e-30);
      }),
      { numRuns: 150, seed: 61 },
    );
  });

  test("im2colMatmul equals im2col(x)·b within float32 rounding (float64 references; fast-check over geometries and widths)", () => {
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 2 ** 30 }), (g, n, seed) => {
        const rng = new TestRng(seed);
        const x = values(rng, imageSize(g));
        const w = values(rng, patchCols(g) * n);
        const got = runIm2colMatmul(backend(), g, x, w, n);
        const { want, bound } = im2colMatmulRef(x, w, n, g);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(bound[i]!);
      }),
      { numRuns: 120, seed: 1661 },
    );
  });

  test("im2colMatmul on many 64-row blocks (the bench's layer, batch 2: 1,568 patch rows, 144 × 32) and on coordinates beyond 2^31", () => {
    const g: PatchGeometry = {
      batch: 2, height: 28, width: 28, channels: 16, kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1, outHeight: 28, outWidth: 28,
    };
    const far: PatchGeometry = { ...g, batch: 1, strideHeight: 2 ** 33, padTop: 2 ** 40, outHeight: 2, dilationWidth: 2 ** 32 + 1, outWidth: 3 };
    const rng = new TestRng(5);
    for (const [geometry, n] of [[g, 32], [far, 5]] as const) {
      const x = values(rng, imageSize(geometry));
      const w = values(rng, patchCols(geometry) * n);
      const got = runIm2colMatmul(backend(), geometry, x, w, n);
      const { want, bound } = im2colMatmulRef(x, w, n, geometry);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / bound[i]!);
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  test("a blocked size (the bench's 3×3 'same' layer on 16 channels) matches the references", () => {
    const g: PatchGeometry = {
      batch: 2, height: 28, width: 28, channels: 16, kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1, outHeight: 28, outWidth: 28,
    };
    const rng = new TestRng(7);
    const x = values(rng, imageSize(g));
    expect(runIm2col(backend(), g, x)).toEqual(Float32Array.from(im2colRef(x, g)));
    const cols = values(rng, patchSize(g));
    const want = col2imRef(cols, g);
    const got = runCol2im(backend(), g, cols);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    // at most 9 values of |v| ≤ 2 added per pixel
    expect(worst).toBeLessThanOrEqual(9 * 2 * 2 ** -21);
    expect(worst).not.toBeNaN();
  });

  test("padding, strides and dilations far past the image (coordinates beyond 2^31) give zeros, not wrapped indices", () => {
    const g: PatchGeometry = {
      batch: 1, height: 3, width: 4, channels: 2, kernelHeight: 2, kernelWidth: 3, strideHeight: 2 ** 33, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 2 ** 32 + 1, padTop: 2 ** 40, padLeft: 1, outHeight: 2, outWidth: 3,
    };
    const rng = new TestRng(9);
    const x = values(rng, imageSize(g));
    expect(Array.from(runIm2col(backend(), g, x))).toEqual(Array.from(im2colRef(x, g)));
    const cols = values(rng, patchSize(g));
    expect(Array.from(runCol2im(backend(), g, cols))).toEqual(Array.from(Float32Array.from(col2imRef(cols, g))));
  });

  test("im2col writes padValue in every padding tap and copies −Infinity, NaN and −0 pixels bit-exactly (float64 direct loops; fast-check)", () => {
    fc.assert(
      fc.property(geometryArb, fc.constantFrom(...PAD_VALUES), fc.integer({ min: 1, max: 2 ** 30 }), (g, padValue, seed) => {
        const x = specialValues(new TestRng(seed), imageSize(g));
        expect(firstDifference(runIm2col(backend(), g, x, padValue), im2colRef(x, g, padValue))).toBe(-1);
      }),
      { numRuns: 200, seed: 1606 },
    );
  });

  test("im2col's padValue on long runs (64 channels: the bulk fill) and on coordinates beyond 2^31 (the exact loop)", () => {
    const wide: PatchGeometry = {
      batch: 2, height: 5, width: 4, channels: 64, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 2, padTop: 1, padLeft: 2, outHeight: 3, outWidth: 4,
    };
    const far: PatchGeometry = {
      batch: 1, height: 3, width: 4, channels: 2, kernelHeight: 2, kernelWidth: 3, strideHeight: 2 ** 33, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 2 ** 32 + 1, padTop: 2 ** 40, padLeft: 1, outHeight: 2, outWidth: 3,
    };
    const rng = new TestRng(13);
    for (const g of [wide, far]) {
      const x = specialValues(rng, imageSize(g));
      for (const padValue of PAD_VALUES) expect(firstDifference(runIm2col(backend(), g, x, padValue), im2colRef(x, g, padValue)), `padValue ${padValue}`).toBe(-1);
      // without padValue, the padding is +0
      expect(firstDifference(runIm2col(backend(), g, x), im2colRef(x, g, 0))).toBe(-1);
    }
  });

  test("refuses a padValue that is not a number with a RangeError before writing anything", () => {
    const g: PatchGeometry = {
      batch: 1, height: 2, width: 2, channels: 1, kernelHeight: 2, kernelWidth: 2, strideHeight: 1, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 1, padTop: 1, padLeft: 1, outHeight: 2, outWidth: 2,
    };
    const b = backend();
    const x = b.upload(new Float32Array(4).fill(1));
    const out = b.upload(new Float32Array(16).fill(5));
    try {
      expect(() => b.kernels!.im2col!({ ...g, x, out, padValue: "-Infinity" as unknown as number })).toThrow(/padValue must be a number.*got string/);
      expect(() => b.kernels!.im2col!({ ...g, x, out, padValue: null as unknown as number })).toThrow(RangeError);
      expect(Array.from(b.read(out))).toEqual(new Array(16).fill(5));
    } finally {
      for (const id of [x, out]) b.free(id);
    }
  });

  test("refuses a bad geometry or a short buffer with a RangeError before writing anything", () => {
    const g: PatchGeometry = {
      batch: 1, height: 4, width: 4, channels: 1, kernelHeight: 2, kernelWidth: 2, strideHeight: 1, strideWidth: 1,
      dilationHeight: 1, dilationWidth: 1, padTop: 0, padLeft: 0, outHeight: 3, outWidth: 3,
    };
    const b = backend();
    const x = b.upload(new Float32Array(16).fill(1));
    const out = b.upload(new Float32Array(36).fill(5));
    const short = b.upload(new Float32Array(35).fill(5));
    try {
      expect(() => b.kernels!.im2col!({ ...g, strideHeight: 0, x, out })).toThrow(/strideHeight must be an integer ≥ 1, got 0/);
      expect(() => b.kernels!.im2col!({ ...g, channels: 1.5, x, out })).toThrow(RangeError);
      expect(() => b.kernels!.im2col!({ ...g, padTop: -1, x, out })).toThrow(/padTop/);
      expect(() => b.kernels!.im2col!({ ...g, batch: 2 ** 40, outHeight: 2 ** 20, x, out })).toThrow(RangeError);
      expect(() => b.kernels!.im2col!({ ...g, x, out: short })).toThrow(/35 values, fewer than the 36/);
      expect(() => b.kernels!.col2im!({ ...g, cols: short, out: x })).toThrow(/35 values, fewer than the 36/);
      expect(() => b.kernels!.im2colMatmul!({ ...g, x, b: x, n: 5, out })).toThrow(/b holds 16 values|fewer than/);
      expect(() => b.kernels!.im2colMatmul!({ ...g, x, b: x, n: -1, out })).toThrow(RangeError);
      expect(Array.from(b.read(out))).toEqual(new Array(36).fill(5));
      expect(Array.from(b.read(x))).toEqual(new Array(16).fill(1));
    } finally {
      for (const id of [x, out, short]) b.free(id);
    }
  });
});

describe("im2col and col2im: cpu/wasm parity", () => {
  test("the same patches exactly, and col2im within float32 rounding, on random geometries (fast-check)", () => {
    const [cpu, wasm] = [instances.get("cpu")!, instances.get("wasm")!];
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 1, max: 2 ** 30 }), (g, seed) => {
        const rng = new TestRng(seed);
        const x = values(rng, imageSize(g));
        expect(runIm2col(wasm, g, x)).toEqual(runIm2col(cpu, g, x));
        const cols = values(rng, patchSize(g));
        const [a, b] = [runCol2im(cpu, g, cols), runCol2im(wasm, g, cols)];
        const bound = col2imRef(cols.map(Math.abs), g);
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(bound[i]! * 2 ** -20 + 1e-30);
      }),
      { numRuns: 200, seed: 1616 },
    );
  });

  test("im2col with a padValue and −Infinity / NaN pixels: the same patches bit for bit (fast-check)", () => {
    const [cpu, wasm] = [instances.get("cpu")!, instances.get("wasm")!];
    fc.assert(
      fc.property(geometryArb, fc.constantFrom(...PAD_VALUES), fc.integer({ min: 1, max: 2 ** 30 }), (g, padValue, seed) => {
        const x = specialValues(new TestRng(seed), imageSize(g));
        expect(firstDifference(runIm2col(wasm, g, x, padValue), runIm2col(cpu, g, x, padValue))).toBe(-1);
      }),
      { numRuns: 200, seed: 6161 },
    );
  });

  test("im2colMatmul agrees within float32 rounding on random geometries (fast-check)", () => {
    const [cpu, wasm] = [instances.get("cpu")!, instances.get("wasm")!];
    fc.assert(
      fc.property(geometryArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 2 ** 30 }), (g, n, seed) => {
        const rng = new TestRng(seed);
        const x = values(rng, imageSize(g));
        const w = values(rng, patchCols(g) * n);
        const [a, b] = [runIm2colMatmul(cpu, g, x, w, n), runIm2colMatmul(wasm, g, x, w, n)];
        const { bound } = im2colMatmulRef(x, w, n, g);
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(2 * bound[i]!);
      }),
      { numRuns: 100, seed: 6116 },
    );
  });
});

describe("im2colMatmul on the wasm backend with 2 threads", () => {
  test("im2col into a buffer, then the threaded matmul: the one-thread kernel's values within float32 rounding", async () => {
    const threaded = await createWasmBackend({ threads: 2 });
    try {
      const g: PatchGeometry = {
        batch: 3, height: 13, width: 11, channels: 5, kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 2,
        dilationHeight: 2, dilationWidth: 1, padTop: 2, padLeft: 1, outHeight: 13, outWidth: 6,
      };
      const n = 40;
      const rng = new TestRng(11);
      const x = values(rng, imageSize(g));
      const w = values(rng, patchCols(g) * n);
      const { want, bound } = im2colMatmulRef(x, w, n, g);
      for (const b of [threaded, instances.get("wasm")!]) {
        const got = runIm2colMatmul(b, g, x, w, n);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / bound[i]!);
        expect(worst).toBeLessThanOrEqual(1);
      }
      expect(threaded.capabilities().threads).toBe(2);
    } finally {
      threaded.dispose();
    }
  });
});
