import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { ArgumentError, ShapeError, type Tensor, fromValues, grad, memory, mul, sequential, setBackend, sum, use } from "@neurite/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { averagePooling2d, convLayers, globalAveragePool, maxPool2d, maxPooling2d } from "../src/index.js";
import { type Nd, finiteDifferences, poolRef, randomNd, worstRatio } from "./reference.js";

beforeAll(() => {
  use(cpuBackend, wasmBackend, convLayers);
});

const toTensor = (a: Nd): Tensor => fromValues(Float32Array.from(a.data), a.shape);

type Case = { name: string; x: number[]; pool: [number, number]; strides: [number, number]; padding: "valid" | "same" };
const CASES: readonly Case[] = [
  { name: "2×2 valid", x: [2, 6, 6, 3], pool: [2, 2], strides: [2, 2], padding: "valid" },
  { name: "3×3 stride 2 same, odd sizes", x: [1, 7, 5, 2], pool: [3, 3], strides: [2, 2], padding: "same" },
  { name: "2×3 stride 1 same", x: [2, 4, 5, 2], pool: [2, 3], strides: [1, 1], padding: "same" },
  { name: "3×2 strides [1, 2] valid, overlapping", x: [1, 6, 7, 1], pool: [3, 2], strides: [1, 2], padding: "valid" },
];

const POOLS = { max: maxPooling2d, avg: averagePooling2d } as const;

describe.each(["cpu", "wasm"])("%s backend: pooling", (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });

  describe.each(["max", "avg"] as const)("%s", (kind) => {
    it.each(CASES)("forward matches the direct loops ($name)", ({ x, pool, strides, padding }) => {
      const xs = randomNd(x, 21);
      const want = poolRef(xs, kind, pool, strides, padding);
      const y = POOLS[kind](toTensor(xs), { poolSize: pool, strides, padding });
      expect(y.shape).toEqual(want.shape);
      expect(worstRatio(y.dataSync(), want.data, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    });

    it.each(CASES)("the input gradient matches float64 finite differences ($name)", ({ x, pool, strides, padding }) => {
      const xs = randomNd(x, 22);
      const r = randomNd(poolRef(xs, kind, pool, strides, padding).shape, 23);
      const loss64 = (): number => poolRef(xs, kind, pool, strides, padding).data.reduce((s, v, i) => s + v * r.data[i]!, 0);
      const [dx] = grad((t: Tensor) => sum(mul(POOLS[kind](t, { poolSize: pool, strides, padding }), toTensor(r))))(toTensor(xs));
      expect(worstRatio(dx!.dataSync(), finiteDifferences(xs, loss64), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    });
  });

  it("max pooling propagates NaN, and −∞ padding never wins over finite values", () => {
    const x = fromValues(Float32Array.from([NaN, 1, -5, -7]), [1, 2, 2, 1]);
    expect(Array.from(maxPooling2d(x, { poolSize: 2 }).dataSync())).toEqual([NaN]);
    const neg = fromValues(Float32Array.from([-3, -2, -1]), [1, 1, 3, 1]);
    expect(Array.from(maxPooling2d(neg, { poolSize: 2, strides: 1, padding: "same" }).dataSync())).toEqual([-2, -1, -1]);
  });

  it("global average pooling is the mean over height and width, with the gradient 1/(H·W)", () => {
    const xs = randomNd([2, 3, 4, 5], 24);
    const y = globalAveragePool(toTensor(xs));
    expect(y.shape).toEqual([2, 5]);
    const want = new Float64Array(10);
    for (let i = 0; i < xs.data.length; i++) want[Math.floor(i / 60) * 5 + (i % 5)]! += xs.data[i]! / 12;
    expect(worstRatio(y.dataSync(), want, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    const [dx] = grad((t: Tensor) => sum(globalAveragePool(t)))(toTensor(xs));
    expect(worstRatio(dx!.dataSync(), new Float64Array(120).fill(1 / 12), 0, 1e-6)).toBeLessThanOrEqual(1);
  });

  it("leaves no tensor behind", () => {
    const x = toTensor(randomNd([1, 5, 5, 2], 25));
    const before = memory().tensors;
    maxPooling2d(x, { poolSize: 3, strides: 2, padding: "same" }).dispose();
    averagePooling2d(x, { poolSize: 3, strides: 2, padding: "same" }).dispose();
    grad((t: Tensor) => sum(averagePooling2d(t, { poolSize: 2, padding: "same" })))(x).forEach((t) => t.dispose());
    grad((t: Tensor) => sum(maxPooling2d(t, { poolSize: 2, padding: "same" })))(x).forEach((t) => t.dispose());
    expect(memory().tensors).toBe(before);
  });
});

describe("pooling: cpu and wasm agree", () => {
  it("on random shapes, windows, strides and padding (fast-check)", async () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }), height: fc.integer({ min: 1, max: 9 }), width: fc.integer({ min: 1, max: 9 }), channels: fc.integer({ min: 1, max: 4 }),
      ph: fc.integer({ min: 1, max: 4 }), pw: fc.integer({ min: 1, max: 4 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
      padding: fc.constantFrom("valid" as const, "same" as const), kind: fc.constantFrom("max" as const, "avg" as const), seed: fc.integer({ min: 0, max: 1e6 }),
    }).filter((c) => c.padding === "same" || (c.ph <= c.height && c.pw <= c.width));
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const options = { poolSize: [c.ph, c.pw] as [number, number], strides: [c.sh, c.sw] as [number, number], padding: c.padding };
      const xs = randomNd([c.batch, c.height, c.width, c.channels], c.seed);
      const r = randomNd(poolRef(xs, c.kind, options.poolSize, options.strides, c.padding).shape, c.seed + 1);
      const run = async (name: string): Promise<Float32Array[]> => {
        await setBackend(name);
        const y = POOLS[c.kind](toTensor(xs), options);
        const [dx] = grad((t: Tensor) => sum(mul(POOLS[c.kind](t, options), toTensor(r))))(toTensor(xs));
        return [y.dataSync(), dx!.dataSync()];
      };
      const cpu = await run("cpu");
      const wasm = await run("wasm");
      for (let i = 0; i < 2; i++) expect(worstRatio(wasm[i]!, cpu[i]!, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    }), { numRuns: 25, seed: 20261206 });
  });
});

describe("pooling layers", () => {
  beforeAll(async () => {
    await setBackend("cpu");
  });

  it("default to 2×2 windows with stride = poolSize and chain with conv2d and globalAveragePooling2d", () => {
    const model = sequential([
      { type: "conv2d", filters: 4, kernelSize: 3, padding: "same", inputShape: [8, 7, 2] },
      { type: "maxPool2d" },
      { type: "avgPool2d", poolSize: 2, strides: 1, padding: "same" },
      { type: "globalAveragePooling2d" },
    ]);
    const y = model.predict(toTensor(randomNd([3, 8, 7, 2], 26)));
    expect(y.shape).toEqual([3, 4]);
    expect(maxPool2d.configure({})).toEqual({ poolSize: [2, 2], strides: [2, 2], padding: "valid" });
    expect(maxPool2d.configure({ poolSize: 3 })).toEqual({ poolSize: [3, 3], strides: [3, 3], padding: "valid" });
  });

  it("refuse unknown fields with a suggestion, bad values and windows larger than the input", () => {
    expect(() => maxPool2d.configure({ poolsize: 2 })).toThrow(ArgumentError);
    expect(() => maxPool2d.configure({ poolsize: 2 })).toThrow(/did you mean "poolSize"/);
    expect(() => maxPool2d.configure({ padding: "full" })).toThrow(/padding must be "valid" or "same", got "full"/);
    expect(() => sequential([{ type: "avgPool2d", poolSize: 4, inputShape: [3, 8, 2] }])).toThrow(ShapeError);
    expect(() => sequential([{ type: "globalAveragePooling2d", inputShape: [8, 2] }])).toThrow(/NHWC/);
  });
});
