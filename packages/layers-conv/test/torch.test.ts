import { readFileSync } from "node:fs";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { type Tensor, Variable, fromValues, grad, mul, setBackend, sum, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { averagePooling2d, batchNorm, convLayers, convolution2d, maxPooling2d } from "../src/index.js";

/** Values computed by PyTorch (scripts/torch-reference.py), in this package's layouts. */
interface Rec {
  readonly shape: number[];
  readonly values: number[];
}
interface Case {
  readonly id: string;
  readonly op: "conv2d" | "maxPool2d" | "avgPool2d" | "batchNorm";
  readonly params: Readonly<Record<string, unknown>>;
  readonly [field: string]: unknown;
}
interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}
const FILE = JSON.parse(readFileSync(new URL("./fixtures/torch-reference.json", import.meta.url), "utf8")) as {
  meta: { recommended_tolerances: { forward: Tolerance; gradient: Tolerance; running: Tolerance } };
  cases: Case[];
};
const TOL = FILE.meta.recommended_tolerances;

beforeAll(() => {
  use(cpuBackend, wasmBackend, convLayers);
});

const rec = (c: Case, field: string): Rec => c[field] as Rec;
const t = (r: Rec): Tensor => fromValues(Float32Array.from(r.values), r.shape);

/** The reference files' rule: |a − e| ≤ max(rtol·|e|, atol); returns the indices that miss. */
function misses(actual: Tensor, expected: Rec, tol: Tolerance): number[] {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  return expected.values.flatMap((e, i) => (Math.abs(a[i]! - e) <= Math.max(tol.rtol * Math.abs(e), tol.atol) ? [] : [i]));
}

type Outputs = Record<string, Tensor>;

function run(c: Case): Outputs {
  const g = t(rec(c, "g"));
  const p = c.params;
  switch (c.op) {
    case "conv2d": {
      const spec = { strides: p.strides as [number, number], padding: p.padding as "valid" | "same", dilation: p.dilation as [number, number], groups: p.groups as number };
      const f = (x: Tensor, k: Tensor, b: Tensor): Tensor => convolution2d(x, k, { ...spec, bias: b });
      const [x, k, b] = [t(rec(c, "x")), t(rec(c, "kernel")), t(rec(c, "bias"))];
      const [dx, dk, db] = grad((a: Tensor, w: Tensor, bb: Tensor) => sum(mul(f(a, w, bb), g)))(x, k, b);
      return { y64: f(x, k, b), dx64: dx!, dkernel64: dk!, dbias64: db! };
    }
    case "maxPool2d":
    case "avgPool2d": {
      const op = c.op === "maxPool2d" ? maxPooling2d : averagePooling2d;
      const options = { poolSize: p.poolSize as [number, number], strides: p.strides as [number, number], padding: p.padding as "valid" | "same" };
      const x = t(rec(c, "x"));
      const [dx] = grad((a: Tensor) => sum(mul(op(a, options), g)))(x);
      return { y64: op(x, options), dx64: dx! };
    }
    case "batchNorm": {
      const training = p.training as boolean;
      const params = () => ({
        scale: t(rec(c, "gamma")), offset: t(rec(c, "beta")), epsilon: p.epsilon as number, momentum: p.momentum as number,
        runningMean: new Variable(t(rec(c, "runningMean")), "runningMean", false), runningVariance: new Variable(t(rec(c, "runningVariance")), "runningVariance", false),
      });
      const forward = params();
      const y = batchNorm(t(rec(c, "x")), forward, training);
      const base = params();
      const [dx, dg, db] = grad((a: Tensor, gm: Tensor, bt: Tensor) => sum(mul(batchNorm(a, { ...base, scale: gm, offset: bt }, training), g)))(
        t(rec(c, "x")), t(rec(c, "gamma")), t(rec(c, "beta")));
      return { y64: y, dx64: dx!, dgamma64: dg!, dbeta64: db!, runningMeanAfter64: forward.runningMean, runningVarianceAfter64: forward.runningVariance };
    }
  }
}

const toleranceOf = (field: string): Tolerance => (field === "y64" ? TOL.forward : field.startsWith("running") ? TOL.running : TOL.gradient);

describe.each(["cpu", "wasm"])("%s backend: PyTorch's values", (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });

  it("the file has conv2d, pooling and batch-norm cases", () => {
    expect(new Set(FILE.cases.map((c) => c.op))).toEqual(new Set(["conv2d", "maxPool2d", "avgPool2d", "batchNorm"]));
  });

  it.each(FILE.cases.map((c) => [c.id, c] as const))("%s: forward and backward within the reference tolerances", (_id, c) => {
    const outputs = run(c);
    for (const [field, actual] of Object.entries(outputs)) {
      expect({ field, misses: misses(actual, rec(c, field), toleranceOf(field)) }).toEqual({ field, misses: [] });
    }
  });
});
