import { type Expr, type StridedView, input, output, scalar } from "@neurite/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
// an erf and a sigmoid written independently of core (core's are what the kernels call)
import { erfRef, sigmoidRef } from "@neurite/test-support";
import { at, forEachIndex, randomArray, rng, rowMajorStrides, setup } from "./helpers.js";

const SENTINEL = -12345;

/**
 * The float64 reference of one element, written by hand in each test with `Math` and the semantics of the
 * primitives spelled out here: never core's evaluator or code generator, which the kernels are built from.
 */
type Reference = (inputs: readonly number[], scalars: readonly number[]) => number;

/** select(c, a, b): NaN and 0 are false. */
const select = (c: number, a: number, b: number): number => (c !== 0 && !Number.isNaN(c) ? a : b);
/** 1 for true, 0 for false: the comparisons' values. */
const bit = (b: boolean): number => (b ? 1 : 0);
/** sign as PyTorch: sign(±0) = 0, sign(NaN) = NaN. */
const sign = (v: number): number => (Number.isNaN(v) ? NaN : v > 0 ? 1 : v < 0 ? -1 : 0);

/** The reference at each index, rounded to float32 like a store. */
function reference(ref: Reference, shape: readonly number[], inputs: { data: Float32Array; view: StridedView }[], scalars: number[]): Map<string, number> {
  const out = new Map<string, number>();
  forEachIndex(shape, (idx) => {
    const xs = inputs.map(({ data, view }) => data[at(view.offset, view.strides, idx)]!);
    out.set(idx.join(","), Math.fround(ref(xs, scalars)));
  });
  return out;
}

/**
 * `got` is `want` (a float32 value) exactly, zeros with their sign; or, with `ulps` > 0, within that many
 * float32 units in the last place (for references such as erf that are not the kernel's own algorithm).
 */
function sameFloat32(got: number, want: number, ulps: number): boolean {
  if (Object.is(got, want)) return true;
  if (ulps === 0 || !Number.isFinite(want) || !Number.isFinite(got) || want === 0) return false;
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
  return Math.abs(got - want) <= ulps * ulp;
}

/** Runs the program and checks every element of out against the reference, and that nothing else was written. */
function check(program: Expr, ref: Reference, shape: number[], inputs: { data: Float32Array; offset: number; strides: number[] }[], scalars: number[], outLayout?: { offset: number; strides: number[]; size: number }, ulps = 0): void {
  const { be } = setup();
  const views = inputs.map((x) => ({ data: x.data, view: { id: be.upload(x.data), offset: x.offset, strides: x.strides } }));
  const n = shape.reduce((a, b) => a * b, 1);
  const layout = outLayout ?? { offset: 0, strides: rowMajorStrides(shape), size: n };
  const outId = be.upload(new Float32Array(layout.size).fill(SENTINEL));
  be.elementwise({ program, inputs: views.map((v) => v.view), scalars, shape, out: { id: outId, offset: layout.offset, strides: layout.strides } });
  const got = be.read(outId);
  const expected = reference(ref, shape, views, scalars);
  const written = new Set<number>();
  forEachIndex(shape, (idx) => {
    const p = at(layout.offset, layout.strides, idx);
    written.add(p);
    const want = expected.get(idx.join(","))!;
    if (!sameFloat32(got[p]!, want, ulps)) expect(got[p], `at [${idx.join(", ")}]`).toBe(want);
  });
  for (let p = 0; p < got.length; p++) if (!written.has(p)) expect(got[p], `untouched element ${p}`).toBe(SENTINEL);
}

const x = input(0);
const y = input(1);

describe("elementwise", () => {
  it("computes a fused contiguous expression", () => {
    const rand = rng(1);
    const shape = [3, 5];
    const prog = x.mul(y).add(x.tanh()).sub(y.sigmoid().mul(scalar(0)));
    check(prog, ([a, b], [s]) => a! * b! + Math.tanh(a!) - sigmoidRef(b!) * s!, shape, [{ data: randomArray(15, rand), offset: 0, strides: [5, 1] }, { data: randomArray(15, rand), offset: 0, strides: [5, 1] }], [0.75]);
  });

  it("broadcasts a scalar input (all-zero strides) and reads scalars", () => {
    const rand = rng(2);
    const prog = x.mul(y).add(scalar(1)).div(scalar(0));
    check(prog, ([a, b], [s0, s1]) => (a! * b! + s1!) / s0!, [4, 6], [{ data: randomArray(24, rand), offset: 0, strides: [6, 1] }, { data: new Float32Array([9, 2.5]), offset: 1, strides: [0, 0] }], [2, -1]);
  });

  it("broadcasts a bias row and a column over a matrix", () => {
    const rand = rng(3);
    const prog = x.add(y).mul(input(2));
    check(prog, ([a, b, c]) => (a! + b!) * c!, [5, 7], [
      { data: randomArray(35, rand), offset: 0, strides: [7, 1] },
      { data: randomArray(7, rand), offset: 0, strides: [0, 1] },
      { data: randomArray(5, rand), offset: 0, strides: [1, 0] },
    ], []);
  });

  it("reads a transpose through permuted strides, with offsets", () => {
    const rand = rng(4);
    // x is a [6, 4] buffer starting at 3, read as its [4, 6] transpose
    check(x.exp().sub(y), ([a, b]) => Math.exp(a!) - b!, [4, 6], [{ data: randomArray(30, rand), offset: 3, strides: [1, 4] }, { data: randomArray(26, rand), offset: 2, strides: [6, 1] }], []);
  });

  it("writes a strided out view with an offset", () => {
    const rand = rng(5);
    check(x.neg(), ([a]) => -a!, [3, 4], [{ data: randomArray(12, rand), offset: 0, strides: [4, 1] }], [], { offset: 2, strides: [1, 3], size: 15 });
  });

  it("handles shape [] (one element) and size-0 shapes", () => {
    check(x.mul(y).add(1), ([a, b]) => a! * b! + 1, [], [{ data: new Float32Array([0, 3]), offset: 1, strides: [] }, { data: new Float32Array([4]), offset: 0, strides: [] }], []);
    check(x.mul(2), ([a]) => a! * 2, [0, 3], [{ data: new Float32Array(0), offset: 0, strides: [3, 1] }], [], { offset: 0, strides: [3, 1], size: 0 });
    check(x.mul(2), ([a]) => a! * 2, [3, 0], [{ data: new Float32Array(0), offset: 0, strides: [0, 1] }], [], { offset: 0, strides: [0, 1], size: 2 });
  });

  it("keeps primitive semantics: select on NaN and 0, NaN-propagating min/max, comparisons", () => {
    const values = new Float32Array([NaN, 0, -0, 1, -2, Infinity, -Infinity, 0.5]);
    const v = { data: values, offset: 0, strides: [1] };
    check(x.where(1, 2), ([a]) => select(a!, 1, 2), [8], [v], []);
    // NaN-propagating max and min, like torch.maximum / minimum
    check(x.max(0).add(x.min(0.25)), ([a]) => (Number.isNaN(a!) ? NaN : (a! > 0 ? a! : 0) + (a! < 0.25 ? a! : 0.25)), [8], [v], []);
    check(x.lt(0.5).add(x.eq(x).mul(10)).add(x.ne(0).mul(100)).add(x.isNaN().mul(1000)), ([a]) => bit(a! < 0.5) + bit(a === a) * 10 + bit(a !== 0) * 100 + bit(Number.isNaN(a!)) * 1000, [8], [v], []);
    check(x.sign().add(x.abs()).add(x.floor()), ([a]) => sign(a!) + Math.abs(a!) + Math.floor(a!), [8], [v], []);
    // erfRef is another algorithm than the kernels' erf: allow one float32 ulp
    check(x.erf().add(x.expm1()).add(x.log1p()), ([a]) => erfRef(a!) + Math.expm1(a!) + Math.log1p(a!), [8], [v], [], undefined, 1);
    check(x.pow(y).add(x.sqrt()).add(x.log()), ([a, b]) => a! ** b! + Math.sqrt(a!) + Math.log(a!), [8], [v, { data: new Float32Array([2, 0.5, 3, -1, 2, 0, 1, NaN]), offset: 0, strides: [1] }], []);
  });

  it("computes in float64 before the single float32 store", () => {
    // (x·1e30)·1e-30 overflows float32 midway but not float64
    check(x.mul(1e30).mul(1e-30), ([a]) => a! * 1e30 * 1e-30, [2], [{ data: new Float32Array([3e20, 1]), offset: 0, strides: [1] }], []);
    const { be } = setup();
    const out = be.alloc(1);
    be.elementwise({ program: x.mul(1e30).mul(1e-30), inputs: [{ id: be.upload(new Float32Array([3e20])), offset: 0, strides: [] }], scalars: [], shape: [], out: { id: out, offset: 0, strides: [] } });
    expect(be.read(out)[0]).toBe(Math.fround(3e20));
  });

  it("the trigonometric, hyperbolic, base-2 and rounding primitives round the float64 value once (fused, strided)", () => {
    const values = new Float32Array([0.3, -2.5, 1e6, 3e38, -1e-40, 0.5, 2.5, -0.75, 89.5, 1e-7, 7, -3.5]);
    const v = { data: values, offset: 0, strides: [3, 1] };
    const shape = [4, 3];
    check(x.sin().add(x.cos()).mul(x.tan()), ([a]) => (Math.sin(a!) + Math.cos(a!)) * Math.tan(a!), shape, [v], []);
    check(x.atan().add(x.asinh()).sub(x.sinh().div(x.cosh())), ([a]) => Math.atan(a!) + Math.asinh(a!) - Math.sinh(a!) / Math.cosh(a!), shape, [v], []);
    check(x.mul(1e-39).atanh(), ([a]) => Math.atanh(a! * 1e-39), shape, [v], []);
    check(x.reciprocal().add(x.abs().rsqrt()), ([a]) => 1 / a! + 1 / Math.sqrt(Math.abs(a!)), shape, [v], []);
    check(x.exp2().add(x.abs().log2()), ([a]) => 2 ** a! + Math.log(Math.abs(a!)) / Math.LN2, shape, [v], [], undefined, 1);
    // ties to even: 0.5 → 0, 2.5 → 2, −3.5 → −4
    check(x.round().add(x.trunc().mul(100)), ([a]) => { const r = Math.round(a!); return (r - a! === 0.5 && r % 2 !== 0 ? r - 1 : r) + Math.trunc(a!) * 100; }, shape, [v], []);
    check(x.hypot(x.mul(0.5)), ([a]) => Math.abs(a!) * Math.sqrt(1.25), shape, [v], [], undefined, 1);
  });

  it("works in place (out aliases an input)", () => {
    const { be, up, read } = setup();
    const a = up([1, 2, 3, 4]);
    be.elementwise({ program: x.mul(x).add(y), inputs: [{ id: a, offset: 0, strides: [1] }, { id: up([10]), offset: 0, strides: [0] }], scalars: [], shape: [4], out: { id: a, offset: 0, strides: [1] } });
    expect(read(a)).toEqual([11, 14, 19, 26]);
  });

  it("reuses compiled kernels across layouts and scalars without mixing them up", () => {
    const prog = x.mul(scalar(0));
    const { be, up, read } = setup();
    const a = up([1, 2, 3, 4, 5, 6]);
    const out = be.alloc(6);
    const run = (strides: number[], s: number): number[] => {
      be.elementwise({ program: prog, inputs: [{ id: a, offset: 0, strides }], scalars: [s], shape: [2, 3], out: { id: out, offset: 0, strides: [3, 1] } });
      return read(out);
    };
    expect(run([3, 1], 2)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(run([1, 2], 1)).toEqual([1, 3, 5, 2, 4, 6]);
    expect(run([0, 1], -1)).toEqual([-1, -2, -3, -1, -2, -3]);
    expect(run([0, 0], 3)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(run([3, 1], 10)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it("rejects views outside their buffers and missing inputs", () => {
    const { be, up } = setup();
    const a = up([1, 2, 3]);
    const out = be.alloc(4);
    const outView = { id: out, offset: 0, strides: [1] };
    expect(() => be.elementwise({ program: x, inputs: [{ id: a, offset: 0, strides: [1] }], scalars: [], shape: [4], out: outView })).toThrow(/input 0 reaches elements \[0, 3\] of a buffer of 3/);
    expect(() => be.elementwise({ program: x.add(y), inputs: [{ id: a, offset: 0, strides: [0] }], scalars: [], shape: [4], out: outView })).toThrow(/input\(1\)/);
    expect(() => be.elementwise({ program: x, inputs: [{ id: a, offset: 0, strides: [0] }], scalars: [], shape: [5], out: outView })).toThrow(/out reaches/);
    expect(() => be.elementwise({ program: x.mul(output()), inputs: [{ id: a, offset: 0, strides: [0] }], scalars: [], shape: [4], out: outView })).toThrow(/output\(\)/);
  });

  it("matches the float64 reference over random shapes, broadcasts, permutations and offsets", () => {
    const prog = x.mul(y).add(input(2).tanh()).sub(scalar(0)).max(y.mul(-3));
    // one operand layout: axes stored in a random order, some broadcast, after a random offset
    const layout = (rank: number) =>
      fc.record({
        order: fc.shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank }),
        broadcast: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
        offset: fc.integer({ min: 0, max: 3 }),
      });
    const arb = fc.integer({ min: 0, max: 4 }).chain((rank) =>
      fc.record({
        shape: fc.array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(1, 1, 0, 9)), { minLength: rank, maxLength: rank }),
        ins: fc.array(layout(rank), { minLength: 3, maxLength: 3 }),
        out: layout(rank),
        seed: fc.integer(),
        s: fc.double({ min: -2, max: 2, noNaN: true }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ shape, ins, out, seed, s }) => {
        const rand = rng(seed);
        const place = (l: { order: number[]; broadcast: boolean[]; offset: number }, allowBroadcast: boolean) => {
          const strides = new Array<number>(shape.length).fill(0);
          let size = 1;
          for (let j = l.order.length - 1; j >= 0; j--) {
            const d = l.order[j]!;
            if (allowBroadcast && l.broadcast[d]) continue;
            strides[d] = size;
            size *= shape[d]!;
          }
          return { offset: l.offset, strides, size: l.offset + size + 1 };
        };
        const inputs = ins.map((l) => {
          const p = place(l, true);
          return { data: randomArray(p.size, rand), offset: p.offset, strides: p.strides };
        });
        check(prog, ([a, b, c], [s0]) => Math.max(a! * b! + Math.tanh(c!) - s0!, b! * -3), shape, inputs, [s], place(out, false));
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
