/**
 * A small float64 n-d array reference with NumPy's rules (broadcasting, reductions over any axes, batched
 * matmul), written independently of @neurite/core so that the backends can be checked against it.
 * Plain loops over index tuples: slow, obvious, and only ever used on small arrays.
 */

/** A float64 n-d array, row-major. */
export interface Nd {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function nd(shape: readonly number[], values: ArrayLike<number> | ((i: number) => number)): Nd {
  const n = sizeOfShape(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = typeof values === "function" ? values(i) : values[i]!;
  if (typeof values !== "function" && values.length !== n) throw new Error(`nd: ${values.length} values for shape [${shape.join(", ")}]`);
  return { shape: [...shape], data };
}

export function scalarNd(v: number): Nd {
  return nd([], [v]);
}

/** The multi-index of flat position i in shape. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    idx[d] = s === 0 ? 0 : i % s;
    i = s === 0 ? 0 : Math.floor(i / s);
  }
  return idx;
}

/** The flat position of a multi-index in shape. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let p = 0;
  for (let d = 0; d < shape.length; d++) p = p * shape[d]! + idx[d]!;
  return p;
}

/** NumPy's broadcast of several shapes; throws on incompatible ones. */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let j = 0; j < rank; j++) {
    let dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + j] ?? 1; // missing leading axes count as 1
      if (d === 1) continue;
      if (dim !== 1 && dim !== d) throw new Error(`incompatible shapes ${shapes.map((x) => `[${x.join(", ")}]`).join(" ")}`);
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

/** The value of x at the output multi-index `idx` of a broadcast result. */
function readBroadcast(x: Nd, idx: readonly number[]): number {
  const off = idx.length - x.shape.length;
  let p = 0;
  for (let d = 0; d < x.shape.length; d++) {
    const s = x.shape[d]!;
    p = p * s + (s === 1 ? 0 : idx[off + d]!);
  }
  return x.data[p]!;
}

/** fn applied elementwise over broadcast operands. */
export function map(fn: (...v: number[]) => number, ...xs: Nd[]): Nd {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  return nd(shape, (i) => {
    const idx = unravel(i, shape);
    return fn(...xs.map((x) => readBroadcast(x, idx)));
  });
}

export type ReduceKind = "sum" | "mean" | "max" | "min" | "logSumExp" | "argmax" | "argmin";

function reduceValues(kind: ReduceKind, v: number[]): number {
  switch (kind) {
    case "sum": return v.reduce((a, b) => a + b, 0);
    case "mean": return v.reduce((a, b) => a + b, 0) / v.length;
    case "max": return v.some(Number.isNaN) ? NaN : Math.max(...v);
    case "min": return v.some(Number.isNaN) ? NaN : Math.min(...v);
    case "logSumExp": {
      if (v.some(Number.isNaN)) return NaN;
      const m = Math.max(...v);
      if (!Number.isFinite(m)) return m === Infinity ? Infinity : -Infinity;
      return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
    }
    case "argmax": return v.indexOf(Math.max(...v));
    case "argmin": return v.indexOf(Math.min(...v));
  }
}

/** A reduction over `axes` (all when undefined; negative axes count from the end), NumPy style. */
export function reduce(x: Nd, kind: ReduceKind, axes?: number | readonly number[], keepDims = false): Nd {
  const rank = x.shape.length;
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === "number" ? [axes] : [...axes];
  const ax = list.map((a) => (a < 0 ? a + rank : a));
  const outFull = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    const o = ravel(idx.map((v, d) => (ax.includes(d) ? 0 : v)), outFull);
    let g = groups.get(o);
    if (!g) groups.set(o, (g = []));
    g.push(x.data[i]!);
  }
  const shape = keepDims ? outFull : x.shape.filter((_, i) => !ax.includes(i));
  return nd(shape, (o) => reduceValues(kind, groups.get(o) ?? []));
}

/** Axes permuted: out.shape[i] = x.shape[perm[i]]. */
export function transpose(x: Nd, perm?: readonly number[]): Nd {
  const p = perm ?? x.shape.map((_, i) => x.shape.length - 1 - i);
  const shape = p.map((a) => x.shape[a]!);
  return nd(shape, (i) => {
    const idx = unravel(i, shape);
    const src = new Array<number>(idx.length);
    p.forEach((a, k) => (src[a] = idx[k]!));
    return x.data[ravel(src, x.shape)]!;
  });
}

export function reshape(x: Nd, shape: readonly number[]): Nd {
  return nd(shape, x.data);
}

/** `length` entries of `axis` from `start`. */
export function narrow(x: Nd, axis: number, start: number, length: number): Nd {
  const shape = x.shape.map((d, i) => (i === axis ? length : d));
  return nd(shape, (i) => {
    const idx = unravel(i, shape);
    idx[axis] = idx[axis]! + start;
    return x.data[ravel(idx, x.shape)]!;
  });
}

export function concat(xs: readonly Nd[], axis: number): Nd {
  const first = xs[0]!;
  const shape = first.shape.map((d, i) => (i === axis ? xs.reduce((s, x) => s + x.shape[axis]!, 0) : d));
  return nd(shape, (i) => {
    const idx = unravel(i, shape);
    let k = idx[axis]!;
    for (const x of xs) {
      const n = x.shape[axis]!;
      if (k < n) {
        idx[axis] = k;
        return x.data[ravel(idx, x.shape)]!;
      }
      k -= n;
    }
    throw new Error("concat: index out of range");
  });
}

/** x.shape[:axis] + indices.shape + x.shape[axis+1:], as numpy.take. */
export function gather(x: Nd, indices: Nd, axis: number): Nd {
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const ir = indices.shape.length;
  return nd(shape, (i) => {
    const idx = unravel(i, shape);
    const which = indices.data[ravel(idx.slice(axis, axis + ir), indices.shape)]!;
    const src = [...idx.slice(0, axis), which, ...idx.slice(axis + ir)];
    return x.data[ravel(src, x.shape)]!;
  });
}

/** The last two axes swapped. */
function swapLast(x: Nd): Nd {
  const r = x.shape.length;
  return transpose(x, [...x.shape.slice(0, r - 2).map((_, i) => i), r - 1, r - 2]);
}

/** numpy.matmul of 2-D or 3-D operands (the batch axis broadcasts), with optional transposes of each. */
export function matmul(a: Nd, b: Nd, transposeA = false, transposeB = false): Nd {
  const left = transposeA ? swapLast(a) : a;
  const right = transposeB ? swapLast(b) : b;
  const [m, k] = left.shape.slice(-2) as [number, number];
  const [k2, n] = right.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`matmul: inner sizes ${k} and ${k2} differ`);
  const batchShape = broadcastShape(left.shape.slice(0, -2), right.shape.slice(0, -2));
  const shape = [...batchShape, m, n];
  const aBatch = sizeOfShape(left.shape.slice(0, -2));
  const bBatch = sizeOfShape(right.shape.slice(0, -2));
  return nd(shape, (i) => {
    const j = i % n;
    const r = Math.floor(i / n) % m;
    const bt = Math.floor(i / (m * n));
    const ao = (aBatch === 1 ? 0 : bt) * m * k;
    const bo = (bBatch === 1 ? 0 : bt) * k * n;
    let s = 0;
    for (let p = 0; p < k; p++) s += left.data[ao + r * k + p]! * right.data[bo + p * n + j]!;
    return s;
  });
}

/** Σ x·w over every element (the scalar that gradient checks differentiate). */
export function dot(x: Nd, w: Nd): number {
  if (x.data.length !== w.data.length) throw new Error(`dot: sizes ${x.data.length} and ${w.data.length}`);
  let s = 0;
  for (let i = 0; i < x.data.length; i++) s += x.data[i]! * w.data[i]!;
  return s;
}
