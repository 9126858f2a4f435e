// Adam, gather, scatterAdd and fill.

/**
 * One Adam / AdamW step in place, in float64 lanes (the CPU backend's order of operations):
 * g' = g + wd·p; m ← β1 m + (1 − β1) g'; v ← β2 v + (1 − β2) g'²; p ← p·decay − step·m / (√(v / bc2) + ε).
 */
export function adam(p: usize, g: usize, m: usize, v: usize, size: i32, lr: f64, beta1: f64, beta2: f64, eps: f64, bc1: f64, bc2: f64, wd: f64, dwd: f64): void {
  const decay = 1 - lr * dwd;
  const step = lr / bc1;
  const invBc2 = 1 / bc2;
  const vb1 = f64x2.splat(beta1), vb1c = f64x2.splat(1 - beta1);
  const vb2 = f64x2.splat(beta2), vb2c = f64x2.splat(1 - beta2);
  const vwd = f64x2.splat(wd), vdecay = f64x2.splat(decay), vstep = f64x2.splat(step), vinv = f64x2.splat(invBc2), veps = f64x2.splat(eps);
  const s2 = size & ~1;
  let i = 0;
  for (; i < s2; i += 2) {
    const off = (<usize>i) << 2;
    const p0 = f64x2.promote_low_f32x4(v128.load64_zero(p + off));
    const gg = f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(g + off)), f64x2.mul(vwd, p0));
    const mi = f64x2.add(f64x2.mul(vb1, f64x2.promote_low_f32x4(v128.load64_zero(m + off))), f64x2.mul(vb1c, gg));
    const vi = f64x2.add(f64x2.mul(vb2, f64x2.promote_low_f32x4(v128.load64_zero(v + off))), f64x2.mul(f64x2.mul(vb2c, gg), gg));
    v128.store64_lane(m + off, f32x4.demote_f64x2_zero(mi), 0);
    v128.store64_lane(v + off, f32x4.demote_f64x2_zero(vi), 0);
    const upd = f64x2.div(f64x2.mul(vstep, mi), f64x2.add(f64x2.sqrt(f64x2.mul(vi, vinv)), veps));
    v128.store64_lane(p + off, f32x4.demote_f64x2_zero(f64x2.sub(f64x2.mul(p0, vdecay), upd)), 0);
  }
  for (; i < size; i++) {
    const off = (<usize>i) << 2;
    const p0 = <f64>load<f32>(p + off);
    const gg = <f64>load<f32>(g + off) + wd * p0;
    const mi = beta1 * <f64>load<f32>(m + off) + (1 - beta1) * gg;
    const vi = beta2 * <f64>load<f32>(v + off) + (1 - beta2) * gg * gg;
    store<f32>(m + off, <f32>mi);
    store<f32>(v + off, <f32>vi);
    store<f32>(p + off, <f32>(p0 * decay - (step * mi) / (Math.sqrt(vi * invBc2) + eps)));
  }
}

/** x [outer, axisSize, inner], integer-valued float indices [count] (already validated) → out [outer, count, inner]. */
export function gather(x: usize, indices: usize, out: usize, outer: i32, axisSize: i32, inner: i32, count: i32): void {
  const bytes = (<usize>inner) << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + (<usize>o) * (<usize>axisSize) * bytes;
    let q = out + (<usize>o) * (<usize>count) * bytes;
    for (let c = 0; c < count; c++) {
      const idx = <usize>(<i32>load<f32>(indices + ((<usize>c) << 2)));
      memory.copy(q, xo + idx * bytes, bytes);
      q += bytes;
    }
  }
}

/** out [outer, axisSize, inner] = 0, then out[o, idx[c], i] += src[o, c, i]. */
export function scatterAdd(src: usize, indices: usize, out: usize, outer: i32, axisSize: i32, inner: i32, count: i32): void {
  const bytes = (<usize>inner) << 2;
  memory.fill(out, 0, (<usize>outer) * (<usize>axisSize) * bytes);
  const i4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const oo = out + (<usize>o) * (<usize>axisSize) * bytes;
    let p = src + (<usize>o) * (<usize>count) * bytes;
    for (let c = 0; c < count; c++) {
      const q = oo + (<usize>(<i32>load<f32>(indices + ((<usize>c) << 2)))) * bytes;
      let i = 0;
      for (; i < i4; i += 4) {
        const off = (<usize>i) << 2;
        v128.store(q + off, f32x4.add(v128.load(q + off), v128.load(p + off)));
      }
      for (; i < inner; i++) {
        const off = (<usize>i) << 2;
        store<f32>(q + off, load<f32>(q + off) + load<f32>(p + off));
      }
      p += bytes;
    }
  }
}

/** n float32 values at ptr set to value. */
export function fill(ptr: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) v128.store(ptr + ((<usize>i) << 2), v);
  for (; i < n; i++) store<f32>(ptr + ((<usize>i) << 2), value);
}
