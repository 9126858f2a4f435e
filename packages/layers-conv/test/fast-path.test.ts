/**
 * The im2col fast path (a backend's im2col / col2im kernels, the product through core's denseActivation) against
 * the composed fallback (gather-based patches, then matmul, bias and activation as core ops), forced by the same
 * backend with the two kernels removed: the same outputs and gradients within float32 rounding, and each path
 * really taken. Pooling likewise: windows by im2col (−∞ padding for max) and col2im, or by the gather, reduced by
 * core's max / mean / sum; max pooling's gradient on ties against a float64 reference of the rule both follow.
 */
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import {
  type Backend, type BackendPlugin, type Tensor, fromValues, grad, memory, mul, resolveActivation, setBackend, sum, use,
} from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { averagePooling2d, convLayers, convolution2d, maxPooling2d } from "../src/index.js";
import { type ConvSpec, type Nd, conv2dRef, outSize, poolRef, randomNd, seededDraws, worstRatio } from "./reference.js";

/** Kernel calls seen by the variants below, per backend name. */
const calls = new Map<string, { im2col: number; col2im: number; im2colMatmul: number; gather: number }>();

/**
 * `base` under another name: with its im2col, col2im and im2colMatmul counted ("fast"), or without them
 * ("composed", its gathers counted). Everything else is the base backend's own instance.
 */
function variant(base: BackendPlugin, name: string, mode: "fast" | "composed"): BackendPlugin {
  return {
    kind: "backend", name, package: base.package, version: base.version,
    async create(options?: unknown) {
      const inner = await base.create(options);
      const count = { im2col: 0, col2im: 0, im2colMatmul: 0, gather: 0 };
      calls.set(name, count);
      const b = Object.create(inner) as Backend;
      const kernels = { ...inner.kernels };
      if (mode === "composed") {
        delete kernels.im2col;
        delete kernels.col2im;
        delete kernels.im2colMatmul;
      } else {
        const { im2col, col2im, im2colMatmul } = inner.kernels!;
        kernels.im2col = (a) => (count.im2col++, im2col!(a));
        kernels.col2im = (a) => (count.col2im++, col2im!(a));
        kernels.im2colMatmul = (a) => (count.im2colMatmul++, im2colMatmul!(a));
      }
      Object.defineProperties(b, {
        name: { value: name },
        kernels: { value: kernels },
        gather: { value: (a: Parameters<Backend["gather"]>[0]) => (count.gather++, inner.gather(a)) },
      });
      return b;
    },
  };
}

beforeAll(() => {
  use(cpuBackend, wasmBackend, reluFamily, softmaxFamily, convLayers);
  for (const base of [cpuBackend, wasmBackend]) use(variant(base, `${base.name}-fast`, "fast"), variant(base, `${base.name}-composed`, "composed"));
});

const toTensor = (a: Nd): Tensor => fromValues(Float32Array.from(a.data), a.shape);

const CASES: readonly { name: string; x: number[]; k: number[]; spec: ConvSpec; activation: string; bias?: false }[] = [
  { name: "3×3 same, relu", x: [2, 7, 6, 3], k: [3, 3, 3, 5], spec: { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 1 }, activation: "relu" },
  { name: "3×3 same stride 2, elu", x: [1, 9, 8, 4], k: [3, 3, 4, 6], spec: { strides: [2, 2], padding: "same", dilation: [1, 1], groups: 1 }, activation: "elu" },
  { name: "2×4 valid, strides [1, 3], linear", x: [3, 6, 11, 2], k: [2, 4, 2, 3], spec: { strides: [1, 3], padding: "valid", dilation: [1, 1], groups: 1 }, activation: "linear" },
  { name: "dilation [2, 3] same, softmax over filters", x: [2, 8, 9, 3], k: [3, 2, 3, 4], spec: { strides: [1, 2], padding: "same", dilation: [2, 3], groups: 1 }, activation: "softmax" },
  { name: "groups 2, relu", x: [2, 6, 5, 4], k: [3, 3, 2, 6], spec: { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 2 }, activation: "relu" },
  { name: "depthwise, batch 1, odd channels, linear", x: [1, 5, 7, 3], k: [3, 3, 1, 3], spec: { strides: [2, 1], padding: "same", dilation: [1, 1], groups: 3 }, activation: "linear" },
  // no bias, no activation: the product by im2colMatmul
  { name: "3×3 same, no bias, linear", x: [2, 7, 6, 3], k: [3, 3, 3, 5], spec: { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 1 }, activation: "linear", bias: false },
  { name: "3×2 valid, stride 2, dilation [1, 2], no bias, batch 1", x: [1, 9, 10, 5], k: [3, 2, 5, 9], spec: { strides: [2, 2], padding: "valid", dilation: [1, 2], groups: 1 }, activation: "linear", bias: false },
  { name: "70 rows of patches (past one 64-row block), no bias", x: [1, 10, 7, 2], k: [3, 3, 2, 3], spec: { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 1 }, activation: "linear", bias: false },
];

describe.each(["cpu", "wasm"])("%s: the im2col fast path and the composed fallback", (base) => {
  it.each(CASES)("give the same output and input, kernel and bias gradients ($name)", async ({ x, k, spec, activation, bias }) => {
    const xs = randomNd(x, 21);
    const ks = randomNd(k, 22);
    const bs = randomNd([k[3]!], 23);
    const r = randomNd(conv2dRef(xs, ks, bs, spec).shape, 24);
    const act = resolveActivation(activation);
    const run = async (name: string): Promise<Float32Array[]> => {
      await setBackend(name);
      const count = calls.get(name)!;
      const before = { ...count };
      const tensors = memory().tensors;
      const withBias = (b: Tensor): { bias?: Tensor } => (bias === false ? {} : { bias: b });
      const y = convolution2d(toTensor(xs), toTensor(ks), { ...spec, ...withBias(toTensor(bs)), activation: act });
      const grads = grad((xt: Tensor, kt: Tensor, bt: Tensor) => sum(mul(convolution2d(xt, kt, { ...spec, ...withBias(bt), activation: act }), toTensor(r))))(
        toTensor(xs), toTensor(ks), toTensor(bs));
      const out = [y, ...grads].map((t) => t.dataSync());
      [y, ...grads].forEach((t) => t.dispose());
      // the inputs made by toTensor are the only tensors left: nothing of the op or its gradient leaks
      expect(memory().tensors - tensors).toBeLessThanOrEqual(6);
      if (name.endsWith("-fast") && bias === false) {
        expect(count.im2colMatmul - before.im2colMatmul).toBe(2); // forward, and the gradient's forward
        expect(count.im2col - before.im2col).toBe(1); // the kernel's gradient reads the patches once
        expect(count.col2im - before.col2im).toBe(1); // the input's gradient
      } else if (name.endsWith("-fast")) {
        expect(count.im2col - before.im2col).toBe(2); // forward, and the gradient's forward
        expect(count.col2im - before.col2im).toBe(1); // the input's gradient
      } else {
        expect(count.gather - before.gather).toBeGreaterThanOrEqual(2);
      }
      return out;
    };
    const fast = await run(`${base}-fast`);
    const composed = await run(`${base}-composed`);
    const want = conv2dRef(xs, ks, bias === false ? undefined : bs, spec);
    expect(fast[0]!.length).toBe(want.data.length);
    if (activation === "linear") expect(worstRatio(fast[0]!, want.data, 1e-5, 1e-5), "output against float64").toBeLessThanOrEqual(1);
    if (bias === false) expect(Array.from(fast[3]!)).toEqual(new Array(k[3]).fill(0)); // b is not read: its gradient is zero
    for (let i = 0; i < 4; i++) expect(worstRatio(fast[i]!, composed[i]!, 1e-5, 1e-5), ["output", "dx", "dkernel", "dbias"][i]).toBeLessThanOrEqual(1);
  });

  it("trains the same: a conv2d layer stack's gradients of a loss agree on both paths", async () => {
    const spec: ConvSpec = { strides: [1, 1], padding: "same", dilation: [1, 1], groups: 1 };
    const xs = randomNd([4, 6, 6, 2], 31);
    const k1 = randomNd([3, 3, 2, 4], 32);
    const k2 = randomNd([3, 3, 4, 3], 33);
    const relu = resolveActivation("relu");
    const run = async (name: string): Promise<Float32Array[]> => {
      await setBackend(name);
      const gs = grad((a: Tensor, b: Tensor) => {
        const h = convolution2d(toTensor(xs), a, { ...spec, activation: relu });
        return sum(mul(convolution2d(h, b, { ...spec, strides: 2 }), convolution2d(h, b, { ...spec, strides: 2 })));
      })(toTensor(k1), toTensor(k2));
      return gs.map((t) => t.dataSync());
    };
    const [fast, composed] = [await run(`${base}-fast`), await run(`${base}-composed`)];
    expect(worstRatio(fast[0]!, composed[0]!, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
    expect(worstRatio(fast[1]!, composed[1]!, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
  });
});

type PoolCase = { name: string; x: number[]; pool: [number, number]; strides: [number, number]; padding: "valid" | "same" };
const POOL_CASES: readonly PoolCase[] = [
  { name: "2×2 valid", x: [2, 6, 6, 3], pool: [2, 2], strides: [2, 2], padding: "valid" },
  { name: "2×2 same, odd sizes (a padded last row and column)", x: [2, 7, 5, 3], pool: [2, 2], strides: [2, 2], padding: "same" },
  { name: "3×3 stride 2 same, odd sizes", x: [1, 7, 5, 2], pool: [3, 3], strides: [2, 2], padding: "same" },
  { name: "2×3 stride 1 same, overlapping", x: [2, 4, 5, 2], pool: [2, 3], strides: [1, 1], padding: "same" },
  { name: "3×2 strides [1, 2] valid, overlapping, batch 1", x: [1, 6, 7, 1], pool: [3, 2], strides: [1, 2], padding: "valid" },
  { name: "4×4 stride 3 same, 5 channels", x: [3, 5, 5, 5], pool: [4, 4], strides: [3, 3], padding: "same" },
  { name: "the digits CNN's pool: 2×2 on 8×8×16", x: [4, 8, 8, 16], pool: [2, 2], strides: [2, 2], padding: "valid" },
];
const POOL_OPS = { max: maxPooling2d, avg: averagePooling2d } as const;

/**
 * Whether `a` and `b` agree: NaN at the same places, and elsewhere |a − b| ≤ atol + rtol·|b| (equal infinities
 * agree).
 */
function agree(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return false;
    } else if (x !== y && !(Math.abs(x - y) <= atol + rtol * Math.abs(y))) {
      return false;
    }
  }
  return true;
}

/**
 * d/dx of Σ maxPool(x)·r in float64 by direct loops, with the rule core's `max` follows (torch.amax's): each
 * window's gradient is split evenly between the taps equal to its maximum, padding taps (−∞) included, whose
 * share is dropped; a window holding NaN has a NaN maximum and sends NaN to every pixel it covers. (PyTorch's
 * max_pool2d sends it all to the first maximum instead; the two differ only on exact ties.)
 */
function maxPoolGradRef(x: Nd, r: Nd, pool: readonly [number, number], strides: readonly [number, number], padding: "valid" | "same"): Float64Array {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const rows = outSize(h, pool[0], strides[0], 1, padding);
  const cols = outSize(w, pool[1], strides[1], 1, padding);
  const dx = new Float64Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < rows.out; oy++)
      for (let ox = 0; ox < cols.out; ox++)
        for (let ch = 0; ch < c; ch++) {
          const taps: number[] = []; // pixel indices, −1 for a padding tap
          for (let ky = 0; ky < pool[0]; ky++)
            for (let kx = 0; kx < pool[1]; kx++) {
              const iy = oy * strides[0] - rows.before + ky;
              const ix = ox * strides[1] - cols.before + kx;
              taps.push(iy < 0 || iy >= h || ix < 0 || ix >= w ? -1 : ((b * h + iy) * w + ix) * c + ch);
            }
          const value = (t: number): number => (t < 0 ? -Infinity : x.data[t]!);
          const g = r.data[((b * rows.out + oy) * cols.out + ox) * c + ch]!;
          if (taps.some((t) => Number.isNaN(value(t)))) {
            for (const t of taps) if (t >= 0) dx[t] = Number.NaN;
            continue;
          }
          const m = Math.max(...taps.map(value));
          const tied = taps.filter((t) => value(t) === m);
          for (const t of tied) if (t >= 0) dx[t]! += g / tied.length;
        }
  return dx;
}

describe.each(["cpu", "wasm"])("%s: pooling through im2col / col2im and the composed fallback", (base) => {
  /** The op's output and input gradient of Σ op(x)·r on backend `name`, checking which path ran and that nothing leaks. */
  const run = async (name: string, kind: "max" | "avg", xs: Nd, r: Nd, c: PoolCase): Promise<[Float32Array, Float32Array]> => {
    await setBackend(name);
    const count = calls.get(name)!;
    const before = { ...count };
    const tensors = memory().tensors;
    const options = { poolSize: c.pool, strides: c.strides, padding: c.padding };
    const y = POOL_OPS[kind](toTensor(xs), options);
    const [dx] = grad((t: Tensor) => sum(mul(POOL_OPS[kind](t, options), toTensor(r))))(toTensor(xs));
    const out: [Float32Array, Float32Array] = [y.dataSync(), dx!.dataSync()];
    y.dispose();
    dx!.dispose();
    // the inputs made by toTensor are the only tensors left
    expect(memory().tensors - tensors).toBeLessThanOrEqual(3);
    if (name.endsWith("-fast")) {
      expect(count.im2col - before.im2col).toBe(2); // forward, and the gradient's forward
      expect(count.col2im - before.col2im).toBe(1); // the input's gradient
      expect(count.gather - before.gather).toBe(0); // no window is gathered
    } else {
      expect(count.gather - before.gather).toBeGreaterThanOrEqual(2);
    }
    return out;
  };

  describe.each(["max", "avg"] as const)("%s pooling", (kind) => {
    it.each(POOL_CASES)("gives the same output and input gradient on both paths, and the float64 loops' output ($name)", async (c) => {
      const xs = randomNd(c.x, 41);
      const want = poolRef(xs, kind, c.pool, c.strides, c.padding);
      const r = randomNd(want.shape, 42);
      const [fastY, fastDx] = await run(`${base}-fast`, kind, xs, r, c);
      const [composedY, composedDx] = await run(`${base}-composed`, kind, xs, r, c);
      expect(worstRatio(fastY, want.data, 1e-6, 1e-5), "output against float64").toBeLessThanOrEqual(1);
      if (kind === "max") {
        // the same patches, the same reduction: bit-equal values, and the gradient to the same taps
        expect(fastY).toEqual(composedY);
        expect(worstRatio(fastDx, maxPoolGradRef(xs, r, c.pool, c.strides, c.padding), 1e-6, 1e-5), "dx against float64").toBeLessThanOrEqual(1);
      }
      expect(worstRatio(fastY, composedY, 1e-6, 1e-6), "output").toBeLessThanOrEqual(1);
      expect(worstRatio(fastDx, composedDx, 1e-6, 1e-5), "dx").toBeLessThanOrEqual(1);
    });
  });

  it.each(POOL_CASES)("max pooling on ties, −∞ and NaN: both paths route the gradient as the float64 rule does ($name)", async (c) => {
    // values from {−1, 0, 1} (many tied maxima), with −∞ (windows of only −∞ tie with the padding) and a few NaN
    const next = seededDraws(43);
    const data = Float64Array.from({ length: c.x.reduce((a, b) => a * b, 1) }, () => {
      const u = next();
      return u < 0.15 ? -Infinity : u < 0.18 ? Number.NaN : Math.floor(next() * 3) - 1;
    });
    const xs: Nd = { shape: c.x, data };
    const want = poolRef(xs, "max", c.pool, c.strides, c.padding);
    const r = randomNd(want.shape, 44);
    const wantDx = maxPoolGradRef(xs, r, c.pool, c.strides, c.padding);
    const [fastY, fastDx] = await run(`${base}-fast`, "max", xs, r, c);
    const [composedY, composedDx] = await run(`${base}-composed`, "max", xs, r, c);
    // poolRef's Math.max propagates NaN as the ops do
    expect(agree(fastY, want.data, 0, 0), "output against float64").toBe(true);
    expect(fastY).toEqual(composedY);
    expect(agree(fastDx, wantDx, 1e-6, 1e-5), "dx against the float64 rule").toBe(true);
    expect(agree(composedDx, wantDx, 1e-6, 1e-5), "composed dx against the float64 rule").toBe(true);
  });

  it("average pooling of −∞ and +∞ pixels: infinite outputs, finite gradients, on both paths", async () => {
    const c: PoolCase = { name: "3×3 same", x: [1, 5, 4, 2], pool: [3, 3], strides: [2, 2], padding: "same" };
    const xs = randomNd(c.x, 45);
    xs.data[0] = -Infinity;
    xs.data[13] = Infinity;
    const want = poolRef(xs, "avg", c.pool, c.strides, c.padding);
    const r = randomNd(want.shape, 46);
    const [fastY, fastDx] = await run(`${base}-fast`, "avg", xs, r, c);
    const [composedY, composedDx] = await run(`${base}-composed`, "avg", xs, r, c);
    expect(agree(fastY, want.data, 1e-6, 1e-5)).toBe(true);
    expect(agree(fastY, composedY, 1e-6, 1e-6)).toBe(true);
    expect(fastDx.every(Number.isFinite)).toBe(true);
    expect(worstRatio(fastDx, composedDx, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
  });
});

describe("the fast path is what cpu and wasm run", () => {
  it.each(["cpu", "wasm"])("%s declares im2col and col2im", async (name) => {
    const b = await setBackend(name);
    expect(typeof b.kernels?.im2col).toBe("function");
    expect(typeof b.kernels?.col2im).toBe("function");
  });
});
