// Row-wise softmax and log-softmax over x viewed as [rows, cols], and their backward passes. Sums
// accumulate in float64; a row holding NaN or +∞, or only −∞, becomes a row of NaN (torch's results).
import { vexp, vexpNeg } from "./vmath";
import { maxOf } from "./reduce";

// @ts-ignore: decorator
@inline function ptr(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

/** The row maximum, or NaN when the row cannot be normalised. */
function rowMax(row: usize, cols: i32): f32 {
  const m = maxOf(row, cols);
  return m == Infinity || m == -Infinity ? NaN : m;
}

function fillNaN(row: usize, cols: i32): void {
  for (let j = 0; j < cols; j++) store<f32>(ptr(row, j), NaN);
}

// @ts-ignore: decorator
@inline function hsum(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/**
 * Σ_j exp(x_j − max), storing each exponential at out_j when `keep`. Sixteen lanes per iteration (four
 * independent polynomial chains); the four vectors are summed in float32 (positive terms: two roundings)
 * before joining the float64 totals.
 */
function expSum(x: usize, out: usize, cols: i32, mx: f32, keep: bool): f64 {
  const c16 = cols & ~15;
  const m = f32x4.splat(mx);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  let j = 0;
  for (; j < c16; j += 16) {
    const p = ptr(x, j);
    const e0 = vexpNeg(f32x4.sub(v128.load(p), m));
    const e1 = vexpNeg(f32x4.sub(v128.load(p, 16), m));
    const e2 = vexpNeg(f32x4.sub(v128.load(p, 32), m));
    const e3 = vexpNeg(f32x4.sub(v128.load(p, 48), m));
    if (keep) {
      const q = ptr(out, j);
      v128.store(q, e0);
      v128.store(q, e1, 16);
      v128.store(q, e2, 32);
      v128.store(q, e3, 48);
    }
    const e = f32x4.add(f32x4.add(e0, e1), f32x4.add(e2, e3));
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(e));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i64x2.shuffle(e, e, 1, 0)));
  }
  for (; j + 4 <= cols; j += 4) {
    const e = vexpNeg(f32x4.sub(v128.load(ptr(x, j)), m));
    if (keep) v128.store(ptr(out, j), e);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(e));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i64x2.shuffle(e, e, 1, 0)));
  }
  let sum = hsum(f64x2.add(a0, a1));
  for (; j < cols; j++) {
    const e = f32x4.extract_lane(vexpNeg(f32x4.splat(load<f32>(ptr(x, j)) - mx)), 0);
    if (keep) store<f32>(ptr(out, j), e);
    sum += <f64>e;
  }
  return sum;
}

export function softmaxRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * cols), or = ptr(out, r * cols);
    const mx = rowMax(xr, cols);
    if (mx != mx) { fillNaN(or, cols); continue; }
    const inv = <f32>(1.0 / expSum(xr, or, cols, mx, true));
    const s = f32x4.splat(inv);
    for (let j = 0; j < c4; j += 4) v128.store(ptr(or, j), f32x4.mul(v128.load(ptr(or, j)), s));
    for (let j = c4; j < cols; j++) store<f32>(ptr(or, j), load<f32>(ptr(or, j)) * inv);
  }
}

export function logSoftmaxRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const xr = ptr(x, r * cols), or = ptr(out, r * cols);
    const mx = rowMax(xr, cols);
    if (mx != mx) { fillNaN(or, cols); continue; }
    // (x − max) − log Σ: x − max is exact near the maximum, and the two terms never cancel
    const lse = <f32>Math.log(expSum(xr, or, cols, mx, false));
    const m = f32x4.splat(mx), l = f32x4.splat(lse);
    for (let j = 0; j < c4; j += 4) v128.store(ptr(or, j), f32x4.sub(f32x4.sub(v128.load(ptr(xr, j)), m), l));
    for (let j = c4; j < cols; j++) store<f32>(ptr(or, j), (load<f32>(ptr(xr, j)) - mx) - lse);
  }
}

/** out = y ⊙ (g − Σ g⊙y) per row. */
export function softmaxBackwardRows(y: usize, g: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const yr = ptr(y, base), gr = ptr(g, base), or = ptr(out, base);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (let j = 0; j < c4; j += 4) {
      const yv = v128.load(ptr(yr, j)), gv = v128.load(ptr(gr, j));
      a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(yv), f64x2.promote_low_f32x4(gv)));
      a1 = f64x2.add(a1, f64x2.mul(f64x2.promote_low_f32x4(i64x2.shuffle(yv, yv, 1, 0)), f64x2.promote_low_f32x4(i64x2.shuffle(gv, gv, 1, 0))));
    }
    let dot = hsum(f64x2.add(a0, a1));
    for (let j = c4; j < cols; j++) dot += <f64>load<f32>(ptr(yr, j)) * <f64>load<f32>(ptr(gr, j));
    const d = <f32>dot;
    const dv = f32x4.splat(d);
    for (let j = 0; j < c4; j += 4) v128.store(ptr(or, j), f32x4.mul(v128.load(ptr(yr, j)), f32x4.sub(v128.load(ptr(gr, j)), dv)));
    for (let j = c4; j < cols; j++) store<f32>(ptr(or, j), load<f32>(ptr(yr, j)) * (load<f32>(ptr(gr, j)) - d));
  }
}

/** out = g − exp(y) Σ g per row (y is the log-softmax output). */
export function logSoftmaxBackwardRows(y: usize, g: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const yr = ptr(y, base), gr = ptr(g, base), or = ptr(out, base);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (let j = 0; j < c4; j += 4) {
      const gv = v128.load(ptr(gr, j));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(gv));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i64x2.shuffle(gv, gv, 1, 0)));
    }
    let sum = hsum(f64x2.add(a0, a1));
    for (let j = c4; j < cols; j++) sum += <f64>load<f32>(ptr(gr, j));
    const s = <f32>sum;
    const sv = f32x4.splat(s);
    for (let j = 0; j < c4; j += 4) v128.store(ptr(or, j), f32x4.sub(v128.load(ptr(gr, j)), f32x4.mul(vexp(v128.load(ptr(yr, j))), sv)));
    for (let j = c4; j < cols; j++) store<f32>(ptr(or, j), load<f32>(ptr(gr, j)) - f32x4.extract_lane(vexp(f32x4.splat(load<f32>(ptr(yr, j)))), 0) * s);
  }
}
