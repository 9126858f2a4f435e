// GotoBLAS-style SIMD matmul: op(B) is packed once into NR-wide panels, op(A) into MR-tall panels per
// MC×KC block, and a 4×8 register tile (8 f32x4 accumulators) runs over unit-stride panels whatever the
// transposes. Transposes cost nothing beyond the packing, which reads each operand in its memory order.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
/** Rows of A packed at a time (the patch rows im2colMatmulRows extracts per block). */
export const MATMUL_MC: i32 = MC;
/** Columns of a B block kept in L2 while every A panel of the row block passes over it. */
const NC: i32 = 256;

/** Bytes of scratch one caller of {@link matmulRows} needs: the packed A block, then the edge tile. */
export function matmulScratchBytes(): i32 {
  return (MC * KC + MR * NR) * 4;
}

/** Elements of a packed op(B) of k×n: k × n rounded up to NR. */
// @ts-ignore: decorator
@inline function paddedN(n: i32): i32 {
  return (n + NR - 1) & ~(NR - 1);
}

/**
 * Four floats at byte offset `off` of each of the rows r0…r3, transposed with shuffles: column c goes to
 * d + c·step as [r0, r1, r2, r3].
 */
// @ts-ignore: decorator
@inline function transpose4x4(off: usize, r0: usize, r1: usize, r2: usize, r3: usize, d: usize, step: usize): void {
  const x0 = v128.load(r0 + off), x1 = v128.load(r1 + off), x2 = v128.load(r2 + off), x3 = v128.load(r3 + off);
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(d + step, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(d + 2 * step, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(d + 3 * step, i64x2.shuffle(t2, t3, 1, 3));
}

/**
 * Packs op(B)[0:k, 0:n] (B(p, j) = b[p·brs + j·bcs]) into dst: KC-deep slices, each a run of NR-wide
 * panels, element (p, q) of the panel starting at column jr at dst[pc·npad + jr·kc + p·NR + q], zero-padded.
 */
export function matmulPackB(b: usize, brs: i32, bcs: i32, k: i32, n: i32, dst: usize): void {
  const npad = paddedN(n);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    for (let jr = 0; jr < npad; jr += NR) {
      const panel = dst + ((<usize>(pc * npad + jr * kc)) << 2);
      const cols = min(NR, n - jr);
      if (bcs == 1 && cols == NR) {
        let src = b + ((<usize>(pc * brs + jr)) << 2);
        const step = (<usize>brs) << 2;
        for (let p = 0; p < kc; p++) {
          const d = panel + ((<usize>(p * NR)) << 2);
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
          src += step;
        }
      } else if (bcs == 1) {
        for (let p = 0; p < kc; p++) {
          const src = b + ((<usize>((pc + p) * brs + jr)) << 2);
          const d = panel + ((<usize>(p * NR)) << 2);
          for (let q = 0; q < NR; q++) store<f32>(d + ((<usize>q) << 2), q < cols ? load<f32>(src + ((<usize>q) << 2)) : 0);
        }
      } else if (brs == 1 && cols == NR) {
        // transposed B, full panel: 4×4 blocks of b's rows (contiguous along p) transposed with shuffles
        const rs = (<usize>bcs) << 2;
        for (let q = 0; q < NR; q += 4) {
          const r0 = b + ((<usize>((jr + q) * bcs + pc)) << 2);
          const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
          let p = 0;
          for (; p + 4 <= kc; p += 4) {
            transpose4x4((<usize>p) << 2, r0, r1, r2, r3, panel + ((<usize>(p * NR + q)) << 2), NR * 4);
          }
          for (; p < kc; p++) {
            const off = (<usize>p) << 2;
            const d = panel + ((<usize>(p * NR + q)) << 2);
            store<f32>(d, load<f32>(r0 + off));
            store<f32>(d, load<f32>(r1 + off), 4);
            store<f32>(d, load<f32>(r2 + off), 8);
            store<f32>(d, load<f32>(r3 + off), 12);
          }
        }
      } else {
        // transposed B: column j of op(B) is contiguous along p when brs = 1
        for (let q = 0; q < NR; q++) {
          const d = panel + ((<usize>q) << 2);
          if (q < cols) {
            const src = b + ((<usize>((jr + q) * bcs + pc * brs)) << 2);
            const step = (<usize>brs) << 2;
            for (let p = 0; p < kc; p++) store<f32>(d + ((<usize>(p * NR)) << 2), load<f32>(src + step * p));
          } else {
            for (let p = 0; p < kc; p++) store<f32>(d + ((<usize>(p * NR)) << 2), 0);
          }
        }
      }
    }
  }
}

/** op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels, element (p, r) of panel ir at ap[ir·kc + p·MR + r], zero-padded. */
function packA(a: usize, ars: i32, acs: i32, ic: i32, mc: i32, pc: i32, kc: i32, ap: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    const panel = ap + ((<usize>(ir * kc)) << 2);
    if (acs == 1 && rows == MR) {
      // four rows at a time, transposed in 4×4 blocks with shuffles
      const r0 = a + ((<usize>((ic + ir) * ars + pc)) << 2);
      const rs = (<usize>ars) << 2;
      const r1 = r0 + rs, r2 = r1 + rs, r3 = r2 + rs;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        transpose4x4((<usize>p) << 2, r0, r1, r2, r3, panel + ((<usize>(p * MR)) << 2), MR * 4);
      }
      for (; p < kc; p++) {
        const off = (<usize>p) << 2;
        const d = panel + ((<usize>(p * MR)) << 2);
        store<f32>(d, load<f32>(r0 + off));
        store<f32>(d, load<f32>(r1 + off), 4);
        store<f32>(d, load<f32>(r2 + off), 8);
        store<f32>(d, load<f32>(r3 + off), 12);
      }
    } else if (ars == 1 && rows == MR) {
      // transposed A: the MR rows of one column are contiguous
      let src = a + ((<usize>(pc * acs + ic + ir)) << 2);
      const step = (<usize>acs) << 2;
      for (let p = 0; p < kc; p++) {
        v128.store(panel + ((<usize>(p * MR)) << 2), v128.load(src));
        src += step;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = panel + ((<usize>(p * MR)) << 2);
        for (let r = 0; r < MR; r++) {
          store<f32>(d + ((<usize>r) << 2), r < rows ? load<f32>(a + ((<usize>((ic + ir + r) * ars + (pc + p) * acs)) << 2)) : 0);
        }
      }
    }
  }
}

/**
 * a·b + c per lane. The relaxed-simd build (asconfig.json target release-fma, kernels-fma.wasm) fuses it
 * into one multiply-add that rounds once where the CPU has FMA; the plain build rounds the product, then
 * the sum. Nothing else differs between the two modules.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 1 in the relaxed-simd build, whose matmul multiply-adds are fused; 0 in the plain SIMD128 build. */
export function matmulFused(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** The 4×8 register tile over one KC slice: c[0:4, 0:8] (row stride ldc bytes) = or += ap·bp. */
// @ts-ignore: decorator
@inline function micro(ap: usize, bp: usize, kc: i32, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = ap + ((<usize>(kc * MR)) << 2);
  while (ap < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc)); c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/**
 * Rows [i0, i1) of the n columns of c (row-major, rows ldc elements apart) = op(A)·op(B), with
 * A(i, p) = a[i·ars + p·acs] and op(B)'s n columns packed by {@link matmulPackB}. `ap` is scratch for
 * MC×KC packed values. Threads call this on disjoint blocks of c (rows or columns) with their own scratch.
 */
export function matmulRows(a: usize, ars: i32, acs: i32, bp: usize, c: usize, n: i32, ldcElements: i32, k: i32, i0: i32, i1: i32, ap: usize): void {
  const npad = paddedN(n);
  const ldc = (<usize>ldcElements) << 2;
  // edge tiles are computed in full in the caller's scratch (threads never share it), then copied out
  const tile = ap + ((<usize>(MC * KC)) << 2);
  if (k == 0) {
    for (let i = i0; i < i1; i++) memory.fill(c + ldc * i, 0, (<usize>n) << 2);
    return;
  }
  for (let ic = i0; ic < i1; ic += MC) {
    const mc = min(MC, i1 - ic);
    for (let jc = 0; jc < n; jc += NC) {
      const jend = min(n, jc + NC);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = min(KC, k - pc);
        const acc = pc > 0;
        // A is packed again for each column block: MC×KC copies against MC×KC×NC multiply-adds
        packA(a, ars, acs, ic, mc, pc, kc, ap);
        for (let jr = jc; jr < jend; jr += NR) {
          const nr = min(NR, n - jr);
          const panel = bp + ((<usize>(pc * npad + jr * kc)) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ai = ap + ((<usize>(ir * kc)) << 2);
            const cp = c + ldc * (ic + ir) + ((<usize>jr) << 2);
            if (mr == MR && nr == NR) {
              micro(ai, panel, kc, cp, ldc, acc);
            } else {
              micro(ai, panel, kc, tile, NR << 2, false);
              for (let r = 0; r < mr; r++) {
                for (let q = 0; q < nr; q++) {
                  const dst = cp + ldc * r + ((<usize>q) << 2);
                  const v = load<f32>(tile + ((<usize>(r * NR + q)) << 2));
                  store<f32>(dst, acc ? load<f32>(dst) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}
