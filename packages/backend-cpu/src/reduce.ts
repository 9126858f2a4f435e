import type { ReduceArgs } from "@neurite/core";
import { dataOf } from "./memory.js";

/** Reused float64 scratch, grown as needed: sums accumulate in float64 without allocating per call. */
export class Scratch64 {
  private buf = new Float64Array(64);
  get(size: number): Float64Array {
    if (this.buf.length < size) this.buf = new Float64Array(Math.max(size, this.buf.length * 2));
    return this.buf;
  }
}

/**
 * x viewed as [outer, size, inner] → out [outer, inner]. max/min propagate NaN and argmax/argmin point at
 * the first NaN (torch semantics); ties give the first index. An empty axis gives 0, −∞, +∞ and NaN for
 * sum, max, min and the arg ops.
 */
export function reduce(args: ReduceArgs, scratch: Scratch64): void {
  prepareReduce(args, scratch)();
}

const NOTHING = (): void => undefined;

/** {@link reduce} with its checks done and its loop chosen once: what a compiled step replays (Backend.prepare). */
export function prepareReduce(args: ReduceArgs, scratch: Scratch64): () => void {
  const { op, outer, size, inner } = args;
  const x = dataOf(args.x, "x");
  const out = dataOf(args.out, "out");
  if (x.length < outer * size * inner) throw new RangeError(`cpu reduce: x holds ${x.length} values, fewer than ${outer}×${size}×${inner}`);
  if (out.length < outer * inner) throw new RangeError(`cpu reduce: out holds ${out.length} values, fewer than ${outer}×${inner}`);
  if (outer * inner === 0) return NOTHING;
  if (size === 0) {
    const empty = op === "sum" ? 0 : op === "max" ? -Infinity : op === "min" ? Infinity : NaN;
    return () => void out.fill(empty, 0, outer * inner);
  }
  switch (op) {
    case "sum": return inner === 1 ? () => sumRows(x, out, outer, size) : () => sumStrided(x, out, outer, size, inner, scratch);
    case "max": return inner === 1 ? () => extremeRows(x, out, outer, size, 1) : () => extremeStrided(x, out, outer, size, inner, 1);
    case "min": return inner === 1 ? () => extremeRows(x, out, outer, size, -1) : () => extremeStrided(x, out, outer, size, inner, -1);
    case "argmax": return inner === 1 ? () => argRows(x, out, outer, size, 1) : () => argStrided(x, out, outer, size, inner, 1, scratch);
    case "argmin": return inner === 1 ? () => argRows(x, out, outer, size, -1) : () => argStrided(x, out, outer, size, inner, -1, scratch);
  }
}

function sumRows(x: Float32Array, out: Float32Array, outer: number, size: number): void {
  for (let o = 0, base = 0; o < outer; o++, base += size) {
    let acc = 0;
    for (let s = 0; s < size; s++) acc += x[base + s]!;
    out[o] = acc;
  }
}

// inner > 1: the size axis is the outer loop so that x is read in memory order
function sumStrided(x: Float32Array, out: Float32Array, outer: number, size: number, inner: number, scratch: Scratch64): void {
  const acc = scratch.get(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0, 0, inner);
    let p = o * size * inner;
    for (let s = 0; s < size; s++, p += inner) {
      for (let i = 0; i < inner; i++) acc[i]! += x[p + i]!;
    }
    const q = o * inner;
    for (let i = 0; i < inner; i++) out[q + i] = acc[i]!;
  }
}

/** sign 1: max, -1: min (comparing sign·v keeps one loop for both). */
function extremeRows(x: Float32Array, out: Float32Array, outer: number, size: number, sign: 1 | -1): void {
  for (let o = 0, base = 0; o < outer; o++, base += size) {
    let best = -Infinity;
    for (let s = 0; s < size; s++) {
      const v = sign * x[base + s]!;
      if (v > best) best = v;
      else if (v !== v) { best = NaN; break; }
    }
    out[o] = sign * best;
  }
}

function extremeStrided(x: Float32Array, out: Float32Array, outer: number, size: number, inner: number, sign: 1 | -1): void {
  for (let o = 0; o < outer; o++) {
    const q = o * inner;
    // out holds the running extreme: float32 in, float32 out, so nothing is lost
    out.fill(-sign * Infinity, q, q + inner);
    let p = o * size * inner;
    for (let s = 0; s < size; s++, p += inner) {
      for (let i = 0; i < inner; i++) {
        const v = x[p + i]!;
        const b = out[q + i]!;
        if (sign * v > sign * b || (v !== v && b === b)) out[q + i] = v;
      }
    }
  }
}

function argRows(x: Float32Array, out: Float32Array, outer: number, size: number, sign: 1 | -1): void {
  for (let o = 0, base = 0; o < outer; o++, base += size) {
    let best = -Infinity;
    let at = 0;
    for (let s = 0; s < size; s++) {
      const v = sign * x[base + s]!;
      if (v > best) { best = v; at = s; }
      else if (v !== v) { at = s; break; }
    }
    out[o] = at;
  }
}

function argStrided(x: Float32Array, out: Float32Array, outer: number, size: number, inner: number, sign: 1 | -1, scratch: Scratch64): void {
  const best = scratch.get(inner);
  for (let o = 0; o < outer; o++) {
    const q = o * inner;
    best.fill(-Infinity, 0, inner);
    out.fill(0, q, q + inner);
    let p = o * size * inner;
    for (let s = 0; s < size; s++, p += inner) {
      for (let i = 0; i < inner; i++) {
        const v = sign * x[p + i]!;
        const b = best[i]!;
        if (v > b || (v !== v && b === b)) { best[i] = v; out[q + i] = s; }
      }
    }
  }
}
