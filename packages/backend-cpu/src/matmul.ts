import type { MatmulArgs } from "@neurite/core";
import type { EpilogueKernel } from "./codegen.js";
import { dataOf } from "./memory.js";

// Block sizes measured on Node 20 (x64) for 512×512: an MR×NR = 4×4 register tile over float64 panels
// packed MC×KC (A) and KC×NC (B). 4×4 beat 4×2, 2×4 and 3×3; float64 panels beat float32 ones.
const MR = 4;
const NR = 4;
const MC = 64;
const KC = 256;
const NC = 256;
/**
 * Up to this many multiply-adds a product runs unpacked ({@link tiled}): packing costs more than it saves.
 * Measured one shape per fresh process (Node 20, x64): unpacked 5.2 µs vs packed 7.4 µs at 10×32×32 (the
 * small bench's 2-32-32-32-1 step), 29–31 vs 33–39 µs at 2^16 in every transpose, even at 64×64×64.
 */
const TILED_LIMIT = 1 << 16;

/** Scratch reused across calls so that a matmul allocates nothing once warm. */
export class MatmulScratch {
  /** Packed A block: MC/MR micro-panels of KC×MR. */
  ap = new Float64Array(0);
  /** Packed B block: NC/NR micro-panels of KC×NR. */
  bp = new Float64Array(0);
  /** Float64 row accumulator of the direct path. */
  row = new Float64Array(0);
  /** Edge tiles are computed here, then their valid part is copied out. */
  readonly tile = new Float32Array(MR * NR);

  ensure(apSize: number, bpSize: number, rowSize: number): void {
    if (this.ap.length < apSize) this.ap = new Float64Array(apSize);
    if (this.bp.length < bpSize) this.bp = new Float64Array(bpSize);
    if (this.row.length < rowSize) this.row = new Float64Array(rowSize);
  }
}

/** f(row + bias) applied to each finished output row segment while it is still in cache. */
export interface Epilogue {
  readonly kernel: EpilogueKernel;
  readonly bias: Float32Array | null;
  readonly scalars: readonly number[];
  /** Where z (before the activation) goes, laid out like out; null when not needed. */
  readonly pre: Float32Array | null;
}

/** One product C = op(A)·op(B), A(i,p) = a[aOff + i·ars + p·acs], B(p,j) = b[bOff + p·brs + j·bcs], C row-major. */
interface Gemm {
  a: Float32Array; aOff: number; ars: number; acs: number;
  b: Float32Array; bOff: number; brs: number; bcs: number;
  c: Float32Array; cOff: number;
  m: number; n: number; k: number;
}

/** Batched out = op(a)·op(b), optionally followed by an epilogue. */
export function matmul(args: MatmulArgs, scratch: MatmulScratch, epilogue?: Epilogue): void {
  prepareMatmul(args, scratch, epilogue)();
}

const NOTHING = (): void => undefined;

/**
 * {@link matmul} with its checks done and each product's layout worked out once: what a compiled step
 * replays (Backend.prepare). The arrays are bound now, so the buffers must stay allocated.
 */
export function prepareMatmul(args: MatmulArgs, scratch: MatmulScratch, epilogue?: Epilogue): () => void {
  const { batch, m, n, k, transposeA, transposeB, aBatchStride, bBatchStride } = args;
  const a = dataOf(args.a, "a");
  const b = dataOf(args.b, "b");
  const c = dataOf(args.out, "out");
  for (const [name, v] of [["batch", batch], ["m", m], ["n", n], ["k", k], ["aBatchStride", aBatchStride], ["bBatchStride", bBatchStride]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`cpu matmul: ${name} must be a non-negative integer, got ${v}`);
  }
  if (batch === 0 || m === 0 || n === 0) return NOTHING;
  const need = (stride: number, size: number): number => (batch - 1) * stride + size;
  if (a.length < need(aBatchStride, m * k)) throw new RangeError(`cpu matmul: a holds ${a.length} values, fewer than batch ${batch} of ${m}×${k} (batch stride ${aBatchStride})`);
  if (b.length < need(bBatchStride, k * n)) throw new RangeError(`cpu matmul: b holds ${b.length} values, fewer than batch ${batch} of ${k}×${n} (batch stride ${bBatchStride})`);
  if (c.length < batch * m * n) throw new RangeError(`cpu matmul: out holds ${c.length} values, fewer than ${batch}×${m}×${n}`);

  const gemm = (t: number, rows: number): Gemm => ({
    a, aOff: t * aBatchStride, ars: transposeA ? 1 : k, acs: transposeA ? m : 1,
    b, bOff: t * bBatchStride, brs: transposeB ? 1 : n, bcs: transposeB ? k : 1,
    c, cOff: t * m * n, m: rows, n, k,
  });
  // A shared B under a stack of row-major As is one tall product: pack B once, not once per matrix
  const products = batch > 1 && bBatchStride === 0 && !transposeA && aBatchStride === m * k
    ? [gemm(0, batch * m)]
    : Array.from({ length: batch }, (_, t) => gemm(t, m));
  if (products.length === 1) {
    const g = products[0]!;
    return () => run(g, scratch, epilogue);
  }
  return () => {
    for (const g of products) run(g, scratch, epilogue);
  };
}

function run(g: Gemm, scratch: MatmulScratch, epilogue: Epilogue | undefined): void {
  if (g.m * g.n * g.k <= TILED_LIMIT) tiled(g, epilogue);
  else if (g.k < 4 || g.m < MR || g.n < NR) direct(g, scratch, epilogue);
  else packed(g, scratch, epilogue);
}

/**
 * Small products straight from the operands: 4×4 register tiles (5×4 where m is a multiple of 5 but not of
 * 4; 2×4, 1×4, 4×1 and 1×1 at the edges) read op(A) and op(B) through their strides, so nothing is packed.
 * Each value is one float64 sum over p in order, as on the direct path and in the packed path's single KC
 * slice (k ≤ 256), which give the same bits.
 */
function tiled(g: Gemm, epilogue: Epilogue | undefined): void {
  const { c, cOff, m, n } = g;
  // rows in 5s where 4s would leave an edge and 5s do not (a batch of 10: 10×32×32 runs in 0.85–0.9 of the time)
  const height = m % MR !== 0 && m % 5 === 0 ? 5 : MR;
  for (let i = 0; i < m; i += height) {
    const rows = Math.min(height, m - i);
    for (let j = 0; j < n; j += NR) {
      const o = cOff + i * n + j;
      if (n - j >= NR) {
        if (rows === 5) tile5x4(g, i, j, o);
        else if (rows === MR) tile4x4(g, i, j, o);
        else {
          if (rows >= 2) tile2x4(g, i, j, o);
          if (rows !== 2) tile1x4(g, i + rows - 1, j, o + (rows - 1) * n);
        }
      } else {
        for (let q = j; q < n; q++) {
          if (rows >= MR) tile4x1(g, i, q, cOff + i * n + q);
          for (let r = rows >= MR ? MR : 0; r < rows; r++) tile1x1(g, i + r, q, cOff + (i + r) * n + q);
        }
      }
    }
    if (epilogue) {
      for (let r = 0; r < rows; r++) epilogue.kernel(c, cOff + (i + r) * n, n, epilogue.bias, 0, epilogue.scalars, epilogue.pre);
    }
  }
}

function tile4x4(g: Gemm, i: number, j: number, o: number): void {
  const { a, ars, acs, b, brs, bcs, c, n, k } = g;
  const a1 = ars, a2 = 2 * ars, a3 = 3 * ars, b1 = bcs, b2 = 2 * bcs, b3 = 3 * bcs;
  let pa = g.aOff + i * ars, pb = g.bOff + j * bcs;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) {
    const x0 = a[pa]!, x1 = a[pa + a1]!, x2 = a[pa + a2]!, x3 = a[pa + a3]!;
    const y0 = b[pb]!, y1 = b[pb + b1]!, y2 = b[pb + b2]!, y3 = b[pb + b3]!;
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
    c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
    c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
  }
  c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += n;
  c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += n;
  c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += n;
  c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
}

function tile5x4(g: Gemm, i: number, j: number, o: number): void {
  const { a, ars, acs, b, brs, bcs, c, n, k } = g;
  const a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, b1 = bcs, b2 = 2 * bcs, b3 = 3 * bcs;
  let pa = g.aOff + i * ars, pb = g.bOff + j * bcs;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0, c40 = 0, c41 = 0, c42 = 0, c43 = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) {
    const y0 = b[pb]!, y1 = b[pb + b1]!, y2 = b[pb + b2]!, y3 = b[pb + b3]!;
    // one row of A at a time keeps fewer values live than the 4×4 tile's eight loads
    let x = a[pa]!;
    c00 += x * y0; c01 += x * y1; c02 += x * y2; c03 += x * y3;
    x = a[pa + a1]!;
    c10 += x * y0; c11 += x * y1; c12 += x * y2; c13 += x * y3;
    x = a[pa + a2]!;
    c20 += x * y0; c21 += x * y1; c22 += x * y2; c23 += x * y3;
    x = a[pa + a3]!;
    c30 += x * y0; c31 += x * y1; c32 += x * y2; c33 += x * y3;
    x = a[pa + a4]!;
    c40 += x * y0; c41 += x * y1; c42 += x * y2; c43 += x * y3;
  }
  c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += n;
  c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += n;
  c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += n;
  c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33; o += n;
  c[o] = c40; c[o + 1] = c41; c[o + 2] = c42; c[o + 3] = c43;
}

function tile2x4(g: Gemm, i: number, j: number, o: number): void {
  const { a, ars, acs, b, brs, bcs, c, n, k } = g;
  const b1 = bcs, b2 = 2 * bcs, b3 = 3 * bcs;
  let pa = g.aOff + i * ars, pb = g.bOff + j * bcs;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) {
    const x0 = a[pa]!, x1 = a[pa + ars]!;
    const y0 = b[pb]!, y1 = b[pb + b1]!, y2 = b[pb + b2]!, y3 = b[pb + b3]!;
    c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
    c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
  }
  c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += n;
  c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13;
}

function tile1x4(g: Gemm, i: number, j: number, o: number): void {
  const { a, acs, b, brs, bcs, c, k } = g;
  const b1 = bcs, b2 = 2 * bcs, b3 = 3 * bcs;
  let pa = g.aOff + i * g.ars, pb = g.bOff + j * bcs;
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) {
    const x = a[pa]!;
    c0 += x * b[pb]!; c1 += x * b[pb + b1]!; c2 += x * b[pb + b2]!; c3 += x * b[pb + b3]!;
  }
  c[o] = c0; c[o + 1] = c1; c[o + 2] = c2; c[o + 3] = c3;
}

function tile4x1(g: Gemm, i: number, j: number, o: number): void {
  const { a, ars, acs, b, brs, c, n, k } = g;
  const a1 = ars, a2 = 2 * ars, a3 = 3 * ars;
  let pa = g.aOff + i * ars, pb = g.bOff + j * g.bcs;
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) {
    const y = b[pb]!;
    c0 += a[pa]! * y; c1 += a[pa + a1]! * y; c2 += a[pa + a2]! * y; c3 += a[pa + a3]! * y;
  }
  c[o] = c0; c[o + n] = c1; c[o + 2 * n] = c2; c[o + 3 * n] = c3;
}

function tile1x1(g: Gemm, i: number, j: number, o: number): void {
  const { a, acs, b, brs, c, k } = g;
  let pa = g.aOff + i * g.ars, pb = g.bOff + j * g.bcs;
  let acc = 0;
  for (let p = 0; p < k; p++, pa += acs, pb += brs) acc += a[pa]! * b[pb]!;
  c[o] = acc;
}

/** Thin products (a dimension under 4): a float64 row accumulator (i-p-j) or dot products when op(B) is transposed. */
function direct(g: Gemm, scratch: MatmulScratch, epilogue: Epilogue | undefined): void {
  const { a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, m, n, k } = g;
  scratch.ensure(0, 0, n);
  const row = scratch.row;
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * ars;
    const ci = cOff + i * n;
    if (bcs === 1) {
      row.fill(0, 0, n);
      for (let p = 0; p < k; p++) {
        const av = a[ai + p * acs]!;
        const bo = bOff + p * brs;
        for (let j = 0; j < n; j++) row[j]! += av * b[bo + j]!;
      }
      for (let j = 0; j < n; j++) c[ci + j] = row[j]!;
    } else {
      for (let j = 0; j < n; j++) {
        const bo = bOff + j * bcs;
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a[ai + p * acs]! * b[bo + p * brs]!;
        c[ci + j] = acc;
      }
    }
    if (epilogue) epilogue.kernel(c, ci, n, epilogue.bias, 0, epilogue.scalars, epilogue.pre);
  }
}

/**
 * GotoBLAS-style blocking: for each NC-wide column block and KC-deep slice, pack op(B) once into NR-wide
 * micro-panels; for each MC-tall row block pack op(A) into MR-tall micro-panels; a 4×4 register tile then
 * runs over unit-stride panels whatever the transposes. Each tile sums its KC slice in float64; slices
 * after the first are added into out.
 */
function packed(g: Gemm, scratch: MatmulScratch, epilogue: Epilogue | undefined): void {
  const { c, cOff, m, n, k } = g;
  scratch.ensure(MC * Math.min(KC, k) + MR * KC, Math.min(KC, k) * (Math.min(NC, n) + NR), 0);
  const { ap, bp, tile } = scratch;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const acc = pc > 0;
      const lastSlice = pc + kc >= k;
      packB(g, pc, kc, jc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(g, ic, mc, pc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            const o = cOff + (ic + ir) * n + jc + jr;
            if (mr === MR && nr === NR) {
              micro(ap, ir * kc, bp, jr * kc, kc, c, o, n, acc);
            } else {
              micro(ap, ir * kc, bp, jr * kc, kc, tile, 0, NR, false);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const v = tile[r * NR + q]!;
                  c[o + r * n + q] = acc ? c[o + r * n + q]! + v : v;
                }
              }
            }
          }
        }
        if (epilogue && lastSlice) {
          for (let r = 0; r < mc; r++) epilogue.kernel(c, cOff + (ic + r) * n + jc, nc, epilogue.bias, jc, epilogue.scalars, epilogue.pre);
        }
      }
    }
  }
}

/** op(A)[ic:ic+mc, pc:pc+kc] into MR-row micro-panels (p-major, zero-padded). */
function packA(g: Gemm, ic: number, mc: number, pc: number, kc: number, ap: Float64Array): void {
  const { a, aOff, ars, acs } = g;
  for (let ir = 0; ir < mc; ir += MR) {
    const base = ir * kc;
    const rows = Math.min(MR, mc - ir);
    if (acs === 1) {
      // rows of A are contiguous: read each row along p
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const src = aOff + (ic + ir + r) * ars + pc;
          for (let p = 0; p < kc; p++) ap[base + p * MR + r] = a[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) ap[base + p * MR + r] = 0;
        }
      }
    } else {
      // transposed A: columns are contiguous, read MR neighbours at a time
      for (let p = 0; p < kc; p++) {
        const src = aOff + (pc + p) * acs + (ic + ir) * ars;
        const d = base + p * MR;
        for (let r = 0; r < MR; r++) ap[d + r] = r < rows ? a[src + r * ars]! : 0;
      }
    }
  }
}

/** op(B)[pc:pc+kc, jc:jc+nc] into NR-column micro-panels (p-major, zero-padded). */
function packB(g: Gemm, pc: number, kc: number, jc: number, nc: number, bp: Float64Array): void {
  const { b, bOff, brs, bcs } = g;
  for (let jr = 0; jr < nc; jr += NR) {
    const base = jr * kc;
    const cols = Math.min(NR, nc - jr);
    if (bcs === 1) {
      for (let p = 0; p < kc; p++) {
        const src = bOff + (pc + p) * brs + jc + jr;
        const d = base + p * NR;
        if (cols === NR) {
          bp[d] = b[src]!; bp[d + 1] = b[src + 1]!; bp[d + 2] = b[src + 2]!; bp[d + 3] = b[src + 3]!;
        } else {
          for (let q = 0; q < NR; q++) bp[d + q] = q < cols ? b[src + q]! : 0;
        }
      }
    } else {
      // transposed B: each column of op(B) is a contiguous row of b
      for (let q = 0; q < NR; q++) {
        if (q < cols) {
          const src = bOff + (jc + jr + q) * bcs + pc * brs;
          for (let p = 0; p < kc; p++) bp[base + p * NR + q] = b[src + p * brs]!;
        } else {
          for (let p = 0; p < kc; p++) bp[base + p * NR + q] = 0;
        }
      }
    }
  }
}

/** The 4×4 register tile: 16 float64 accumulators over one KC slice, then stored (or added) into c. */
function micro(ap: Float64Array, ai: number, bp: Float64Array, bi: number, kc: number, c: Float32Array, o: number, ldc: number, acc: boolean): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = ai + kc * MR;
  for (; ai < end; ai += MR, bi += NR) {
    const a0 = ap[ai]!, a1 = ap[ai + 1]!, a2 = ap[ai + 2]!, a3 = ap[ai + 3]!;
    const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (acc) {
    c[o] = c[o]! + c00; c[o + 1] = c[o + 1]! + c01; c[o + 2] = c[o + 2]! + c02; c[o + 3] = c[o + 3]! + c03; o += ldc;
    c[o] = c[o]! + c10; c[o + 1] = c[o + 1]! + c11; c[o + 2] = c[o + 2]! + c12; c[o + 3] = c[o + 3]! + c13; o += ldc;
    c[o] = c[o]! + c20; c[o + 1] = c[o + 1]! + c21; c[o + 2] = c[o + 2]! + c22; c[o + 3] = c[o + 3]! + c23; o += ldc;
    c[o] = c[o]! + c30; c[o + 1] = c[o + 1]! + c31; c[o + 2] = c[o + 2]! + c32; c[o + 3] = c[o + 3]! + c33;
  } else {
    c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += ldc;
    c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += ldc;
    c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += ldc;
    c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
  }
}
