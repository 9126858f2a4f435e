/**
 * Cross-backend parity: the same inputs give the same results (each element within 1e-5 relative, with an
 * absolute floor of 1e-6) on every backend, for
 * every op case of the gradient suite (values and gradients) and for wide-range elementwise, reduction and
 * matmul inputs. Meaningful once a second backend (wasm) is available; until then it checks that cpu is
 * there and that the missing backend is reported with a reason.
 */
import {
  type Tensor, abs, add, div, erf, exp, expm1, log, log1p, logSumExp, matmul, max, maximum, mean, min, minimum, mul,
  normal, pow, scope, setBackend, sigmoid, sqrt, sub, sum, tanh, uniform, valueAndGradOf,
} from "@neurite/core";
import { describe, expect, test } from "vitest";
import { expectClose } from "../src/assert.js";
import { BACKENDS, registerBackends } from "../src/backends.js";
import { rand } from "../src/cases.js";
import { opCases } from "../src/op-cases.js";
import { type Nd, map } from "../src/reference.js";
import { TestRng } from "@neurite/test-support";
import { fromNd } from "../src/tensors.js";

registerBackends();

const REFERENCE = "cpu";
const OTHERS = BACKENDS.filter((b) => b !== REFERENCE);

interface ParityCase {
  readonly name: string;
  readonly inputs: readonly Nd[];
  readonly f: (...ts: Tensor[]) => Tensor;
  /** Differentiate with respect to these inputs too (default none). */
  readonly wrt?: readonly number[];
  /**
   * Each output is a sum of products (matmul): its rounding error scales with Σ|terms|, not with the result,
   * which may cancel towards 0. The absolute floor of each element is then 1e-6 × that element evaluated on
   * |inputs| (for a product, |A|·|B|), never a scale taken from the whole output.
   */
  readonly accumulates?: boolean;
}

/** The output and the gradients (of Σ output) on the active backend, as plain arrays. */
function evaluate(c: ParityCase, inputs: readonly Nd[] = c.inputs): number[][] {
  return scope(() => {
    const ts = inputs.map(fromNd);
    const wrt = c.wrt ?? [];
    if (wrt.length === 0) return [Array.from(c.f(...ts).dataSync())];
    const { value, grads } = valueAndGradOf(() => sum(c.f(...ts)), wrt.map((i) => ts[i]!));
    return [Array.from(c.f(...ts).dataSync()), [value.item()], ...grads.map((g) => Array.from(g.dataSync()))];
  });
}

function parityCases(): ParityCase[] {
  const rng = new TestRng(8080);
  const out: ParityCase[] = opCases().map((c) => ({ name: `op case: ${c.name}`, inputs: c.inputs, f: c.f, wrt: c.wrt ?? c.inputs.map((_, i) => i) }));
  const unary: [string, (x: Tensor) => Tensor, number, number][] = [
    ["exp", exp, -80, 80], ["expm1", expm1, -10, 10], ["log", log, 1e-6, 1e6], ["log1p", log1p, -0.99, 100], ["sqrt", sqrt, 0, 1e4],
    ["tanh", tanh, -12, 12], ["sigmoid", sigmoid, -40, 40], ["erf", erf, -5, 5], ["abs", abs, -10, 10],
  ];
  for (const [name, f, lo, hi] of unary) out.push({ name: `${name} over [${lo}, ${hi}]`, inputs: [rand(rng, [4096], lo, hi)], f });
  const binary: [string, (a: Tensor, b: Tensor) => Tensor][] = [["add", add], ["sub", sub], ["mul", mul], ["div", div], ["maximum", maximum], ["minimum", minimum]];
  for (const [name, f] of binary) out.push({ name: `${name} broadcast [64,1,32] with [48,1]`, inputs: [rand(rng, [64, 1, 32]), rand(rng, [48, 1], -3, 3, 0.1)], f });
  out.push({ name: "pow [256] with [256]", inputs: [rand(rng, [256], 0.1, 4), rand(rng, [256], -3, 3)], f: (a, b) => pow(a, b) });
  const reducers: [string, (x: Tensor, axes?: number[], keep?: boolean) => Tensor][] = [["sum", sum], ["mean", mean], ["max", max], ["min", min], ["logSumExp", logSumExp]];
  for (const [name, f] of reducers) {
    for (const axes of [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]]) {
      out.push({ name: `${name} of [16,33,20] over [${axes.join(",")}]`, inputs: [rand(rng, [16, 33, 20], -4, 4)], f: (x) => f(x, axes, true) });
    }
  }
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    out.push({
      name: `matmul 96×128·128×80 transposeA ${tA} transposeB ${tB}`,
      inputs: [rand(rng, tA ? [128, 96] : [96, 128]), rand(rng, tB ? [80, 128] : [128, 80])],
      f: (a, b) => matmul(a, b, { transposeA: tA, transposeB: tB }),
      wrt: [0, 1],
      accumulates: true,
    });
  }
  out.push({ name: "batched matmul [8,17,31]·[31,9]", inputs: [rand(rng, [8, 17, 31]), rand(rng, [31, 9])], f: (a, b) => matmul(a, b), wrt: [0, 1], accumulates: true });
  out.push({ name: "seeded uniform and normal", inputs: [], f: () => add(uniform([1000], { seed: 5 }), normal([1000], { seed: 6 })) });
  return out;
}

test("parity has a backend to compare with the reference", () => {
  expect(OTHERS).toContain("wasm");
});

const CASES = parityCases();
describe.each(OTHERS)(`${REFERENCE} vs %s parity`, (other) => {
  for (const c of CASES) {
    test(c.name, async () => {
      await setBackend(REFERENCE);
      const expected = evaluate(c);
      const magnitudes = c.accumulates ? evaluate(c, c.inputs.map((x) => map(Math.abs, x))) : undefined;
      await setBackend(other);
      const actual = evaluate(c);
      expect(actual.length).toBe(expected.length);
      expected.forEach((e, k) => {
        const part = k === 0 ? "output" : k === 1 ? "Σ output" : `gradient ${k - 2}`;
        const atolAt = magnitudes?.[k]!.map((m) => 1e-6 * Math.max(1, m));
        expectClose(actual[k]!, e, { rtol: 1e-5, atol: 1e-6, ...(atolAt ? { atolAt } : {}) }, `${c.name}: ${part} on ${other} vs ${REFERENCE}`);
      });
    });
  }
});
