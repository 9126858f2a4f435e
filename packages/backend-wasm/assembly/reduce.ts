// Reductions of x viewed as [outer, size, inner]. Sums accumulate in float64 (as the CPU backend does);
// max/min propagate NaN (f32x4.max/min do); arg ops point at the first extreme or the first NaN.

/** inner = 1: out[o] = Σ_s x[o, s], float64 accumulators over f32x4 loads. */
export function sumRows(x: usize, out: usize, outer: i32, size: i32): void {
  const s4 = size & ~3;
  for (let o = 0; o < outer; o++) {
    const row = x + ((<usize>o * <usize>size) << 2);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (let s = 0; s < s4; s += 4) {
      const v = v128.load(row + ((<usize>s) << 2));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0)));
    }
    const a = f64x2.add(a0, a1);
    let acc = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
    for (let s = s4; s < size; s++) acc += <f64>load<f32>(row + ((<usize>s) << 2));
    store<f32>(out + ((<usize>o) << 2), <f32>acc);
  }
}

/** inner > 1: the size axis is the outer loop so x is read in memory order; `scratch` holds inner float64s. */
export function sumInner(x: usize, out: usize, outer: i32, size: i32, inner: i32, scratch: usize): void {
  const i4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    memory.fill(scratch, 0, (<usize>inner) << 3);
    let p = x + ((<usize>o * <usize>size * <usize>inner) << 2);
    for (let s = 0; s < size; s++) {
      let i = 0;
      for (; i < i4; i += 4) {
        const v = v128.load(p + ((<usize>i) << 2));
        const d = scratch + ((<usize>i) << 3);
        v128.store(d, f64x2.add(v128.load(d), f64x2.promote_low_f32x4(v)));
        v128.store(d, f64x2.add(v128.load(d, 16), f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0))), 16);
      }
      for (; i < inner; i++) {
        const d = scratch + ((<usize>i) << 3);
        store<f64>(d, load<f64>(d) + <f64>load<f32>(p + ((<usize>i) << 2)));
      }
      p += (<usize>inner) << 2;
    }
    const q = out + ((<usize>o * <usize>inner) << 2);
    for (let i = 0; i < inner; i++) store<f32>(q + ((<usize>i) << 2), <f32>load<f64>(scratch + ((<usize>i) << 3)));
  }
}

/**
 * Maximum of n values, NaN if any is NaN. pmax is one instruction where NaN-propagating f32x4.max is about
 * nine, so NaN is tracked in a separate mask, and two accumulators break the loop-carried latency chain.
 */
export function maxOf(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(-Infinity), a1 = a0;
  let nan = v128.splat<i32>(0);
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const v0 = v128.load(p + ((<usize>i) << 2)), v1 = v128.load(p + ((<usize>i) << 2), 16);
    a0 = f32x4.pmax(a0, v0);
    a1 = f32x4.pmax(a1, v1);
    nan = v128.or(nan, v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)));
  }
  const a = f32x4.pmax(a0, a1);
  let m = max(max(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)), max(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
  if (v128.any_true(nan)) return NaN;
  for (; i < n; i++) m = max(m, load<f32>(p + ((<usize>i) << 2)));
  return m;
}

/** Minimum of n values, NaN if any is NaN (see {@link maxOf}). */
export function minOf(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(Infinity), a1 = a0;
  let nan = v128.splat<i32>(0);
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const v0 = v128.load(p + ((<usize>i) << 2)), v1 = v128.load(p + ((<usize>i) << 2), 16);
    a0 = f32x4.pmin(a0, v0);
    a1 = f32x4.pmin(a1, v1);
    nan = v128.or(nan, v128.or(f32x4.ne(v0, v0), f32x4.ne(v1, v1)));
  }
  const a = f32x4.pmin(a0, a1);
  let m = min(min(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)), min(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
  if (v128.any_true(nan)) return NaN;
  for (; i < n; i++) m = min(m, load<f32>(p + ((<usize>i) << 2)));
  return m;
}

/** sign 1: max, −1: min, over rows (inner = 1). */
export function extremeRows(x: usize, out: usize, outer: i32, size: i32, sign: i32): void {
  for (let o = 0; o < outer; o++) {
    const row = x + ((<usize>o * <usize>size) << 2);
    store<f32>(out + ((<usize>o) << 2), sign > 0 ? maxOf(row, size) : minOf(row, size));
  }
}

/** max/min over the middle axis with inner > 1: out holds the running extreme; NaN lanes stick. */
export function extremeInner(x: usize, out: usize, outer: i32, size: i32, inner: i32, sign: i32): void {
  const i4 = inner & ~3;
  const init: f32 = sign > 0 ? -Infinity : Infinity;
  for (let o = 0; o < outer; o++) {
    const q = out + ((<usize>o * <usize>inner) << 2);
    for (let i = 0; i < inner; i++) store<f32>(q + ((<usize>i) << 2), init);
    let p = x + ((<usize>o * <usize>size * <usize>inner) << 2);
    for (let s = 0; s < size; s++) {
      let i = 0;
      for (; i < i4; i += 4) {
        const d = q + ((<usize>i) << 2);
        const b = v128.load(d), v = v128.load(p + ((<usize>i) << 2));
        // pmax(b, v) keeps b when either is NaN; a NaN v then replaces it, and a NaN b stays
        const r = sign > 0 ? f32x4.pmax(b, v) : f32x4.pmin(b, v);
        v128.store(d, v128.bitselect(v, r, f32x4.ne(v, v)));
      }
      for (; i < inner; i++) {
        const d = q + ((<usize>i) << 2);
        store<f32>(d, sign > 0 ? max(load<f32>(d), load<f32>(p + ((<usize>i) << 2))) : min(load<f32>(d), load<f32>(p + ((<usize>i) << 2))));
      }
      p += (<usize>inner) << 2;
    }
  }
}

/** argmax (sign 1) / argmin (−1) over rows: the first extreme, or the first NaN. */
export function argRows(x: usize, out: usize, outer: i32, size: i32, sign: i32): void {
  const sg = <f32>sign;
  for (let o = 0; o < outer; o++) {
    const row = x + ((<usize>o * <usize>size) << 2);
    let best: f32 = -Infinity;
    let at = 0;
    for (let s = 0; s < size; s++) {
      const v = sg * load<f32>(row + ((<usize>s) << 2));
      if (v > best) { best = v; at = s; }
      else if (v != v) { at = s; break; }
    }
    store<f32>(out + ((<usize>o) << 2), <f32>at);
  }
}

/** argmax/argmin over the middle axis with inner > 1; `scratch` holds inner float32s (the running best). */
export function argInner(x: usize, out: usize, outer: i32, size: i32, inner: i32, sign: i32, scratch: usize): void {
  const sg = <f32>sign;
  for (let o = 0; o < outer; o++) {
    const q = out + ((<usize>o * <usize>inner) << 2);
    for (let i = 0; i < inner; i++) {
      store<f32>(scratch + ((<usize>i) << 2), -Infinity);
      store<f32>(q + ((<usize>i) << 2), 0);
    }
    let p = x + ((<usize>o * <usize>size * <usize>inner) << 2);
    for (let s = 0; s < size; s++) {
      for (let i = 0; i < inner; i++) {
        const v = sg * load<f32>(p + ((<usize>i) << 2));
        const b = load<f32>(scratch + ((<usize>i) << 2));
        if (v > b || (v != v && b == b)) {
          store<f32>(scratch + ((<usize>i) << 2), v);
          store<f32>(q + ((<usize>i) << 2), <f32>s);
        }
      }
      p += (<usize>inner) << 2;
    }
  }
}
