/**
 * Every optimizer against PyTorch's update rules written out by hand in float64, over several steps with the
 * learning rate changed between steps; parameters and the optimizer's own state buffers are compared.
 */
import { type Optimizer, Random, Variable, adam, adamW, rmsprop, scope, sgd, tensor } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { setupCpu } from "./setup.js";

beforeAll(setupCpu);

/** Per-parameter state, named as the optimizer names its buffers. */
type State = Record<string, number[]>;

interface Hyper {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  amsgrad?: boolean;
  alpha?: number;
  centered?: boolean;
}

const zeros = (n: number) => new Array<number>(n).fill(0);

/** PyTorch's SGD: buf = g on the first step, then m·buf + (1 − dampening)·g; Nesterov uses g + m·buf. */
function sgd64(h: Hyper) {
  return (p: number[], g: number[], t: number, lr: number, s: State): void => {
    const m = h.momentum ?? 0;
    p.forEach((_, i) => {
      const gi = g[i]! + (h.weightDecay ?? 0) * p[i]!;
      if (m === 0) {
        p[i] = p[i]! - lr * gi;
        return;
      }
      s.momentum ??= zeros(p.length);
      s.momentum[i] = t === 1 ? gi : m * s.momentum[i]! + (1 - (h.dampening ?? 0)) * gi;
      p[i] = p[i]! - lr * (h.nesterov ? gi + m * s.momentum[i] : s.momentum[i]);
    });
  };
}

/** PyTorch's Adam / AdamW: bias-corrected moments, eps outside the root, L2 or decoupled decay, AMSGrad. */
function adam64(h: Hyper, decoupled: boolean) {
  return (p: number[], g: number[], t: number, lr: number, s: State): void => {
    const [b1, b2, eps] = [h.beta1 ?? 0.9, h.beta2 ?? 0.999, h.eps ?? 1e-8];
    const wd = h.weightDecay ?? (decoupled ? 0.01 : 0);
    s.m ??= zeros(p.length);
    s.v ??= zeros(p.length);
    if (h.amsgrad) s.vMax ??= zeros(p.length);
    p.forEach((_, i) => {
      let gi = g[i]!;
      if (decoupled) p[i] = p[i]! * (1 - lr * wd);
      else gi += wd * p[i]!;
      s.m![i] = b1 * s.m![i]! + (1 - b1) * gi;
      s.v![i] = b2 * s.v![i]! + (1 - b2) * gi * gi;
      let v = s.v![i];
      if (h.amsgrad) v = s.vMax![i] = Math.max(s.vMax![i]!, v);
      p[i] = p[i]! - (lr / (1 - b1 ** t)) * (s.m![i] / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
    });
  };
}

/** PyTorch's RMSprop: square average with smoothing alpha, eps outside the root, momentum, centering. */
function rmsprop64(h: Hyper) {
  return (p: number[], g: number[], _t: number, lr: number, s: State): void => {
    const a = h.alpha ?? 0.99;
    const eps = h.eps ?? 1e-8;
    s.squareAvg ??= zeros(p.length);
    if (h.centered) s.gradAvg ??= zeros(p.length);
    if (h.momentum) s.momentum ??= zeros(p.length);
    p.forEach((_, i) => {
      const gi = g[i]! + (h.weightDecay ?? 0) * p[i]!;
      s.squareAvg![i] = a * s.squareAvg![i]! + (1 - a) * gi * gi;
      let avg = s.squareAvg![i];
      if (h.centered) {
        s.gradAvg![i] = a * s.gradAvg![i]! + (1 - a) * gi;
        avg -= s.gradAvg![i] ** 2;
      }
      const denom = Math.sqrt(avg) + eps;
      if (h.momentum) {
        s.momentum![i] = h.momentum * s.momentum![i]! + gi / denom;
        p[i] = p[i]! - lr * s.momentum![i];
      } else {
        p[i] = p[i]! - (lr * gi) / denom;
      }
    });
  };
}

type Hand = (p: number[], g: number[], t: number, lr: number, s: State) => void;

const CASES: [string, (lr: number) => Optimizer, Hand][] = [
  ["sgd", (lr) => sgd({ lr }), sgd64({})],
  ["sgd + weightDecay", (lr) => sgd({ lr, weightDecay: 0.1 }), sgd64({ weightDecay: 0.1 })],
  ["sgd + momentum", (lr) => sgd({ lr, momentum: 0.9 }), sgd64({ momentum: 0.9 })],
  ["sgd + momentum + dampening", (lr) => sgd({ lr, momentum: 0.5, dampening: 0.2 }), sgd64({ momentum: 0.5, dampening: 0.2 })],
  ["sgd + nesterov + weightDecay", (lr) => sgd({ lr, momentum: 0.8, nesterov: true, weightDecay: 0.05 }), sgd64({ momentum: 0.8, nesterov: true, weightDecay: 0.05 })],
  ["adam", (lr) => adam({ lr }), adam64({}, false)],
  ["adam, other betas, eps and L2 weight decay", (lr) => adam({ lr, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.05 }), adam64({ beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.05 }, false)],
  ["adam + amsgrad", (lr) => adam({ lr, amsgrad: true }), adam64({ amsgrad: true }, false)],
  ["adamW", (lr) => adamW({ lr, weightDecay: 0.1 }), adam64({ weightDecay: 0.1 }, true)],
  ["adamW with its default weightDecay (0.01)", (lr) => adamW({ lr }), adam64({}, true)],
  ["rmsprop", (lr) => rmsprop({ lr }), rmsprop64({})],
  ["rmsprop + momentum + centered + weightDecay", (lr) => rmsprop({ lr, alpha: 0.9, momentum: 0.7, centered: true, weightDecay: 0.01 }), rmsprop64({ alpha: 0.9, momentum: 0.7, centered: true, weightDecay: 0.01 })],
];

/** The learning rate of each step: changed between steps, as a scheduler would. */
const LRS = [0.1, 0.1, 0.03, 0.03, 0.2, 0.05];
const SHAPES = [[3, 2], [4]];

function close(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= 1e-5 * Math.abs(expected[i]!) + 1e-6)) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

describe("optimizers against hand-written float64 updates", () => {
  for (const [name, make, hand] of CASES) {
    it(`${name}: parameters and state over ${LRS.length} steps, lr changed between steps`, () => {
      const rng = new Random(name.length * 7919);
      const f32 = () => Math.fround(rng.next() * 2 - 1);
      const init = SHAPES.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, f32));
      const params = init.map((v, k) => scope(() => new Variable(tensor(v, SHAPES[k]), `p${k}`)));
      const ref = init.map((v) => [...v]);
      const states: State[] = init.map(() => ({}));
      const opt = make(LRS[0]!);
      LRS.forEach((lr, step) => {
        // gradients of varied size and sign, some exactly 0
        const grads = init.map((v) => v.map((_, i) => (i === step ? 0 : Math.fround(f32() * 10 ** (step % 3 - 1)))));
        opt.lr = lr;
        scope(() => opt.step(params, grads.map((g, k) => tensor(g, SHAPES[k]))));
        ref.forEach((p, k) => hand(p, grads[k]!, step + 1, lr, states[k]!));
        params.forEach((p, k) => {
          close(p.dataSync(), ref[k]!, `step ${step + 1} p${k}`);
          const held = opt.state!(p);
          expect(Object.keys(held).sort()).toEqual(Object.keys(states[k]!).sort());
          for (const [key, values] of Object.entries(states[k]!)) close(held[key]!.dataSync(), values, `step ${step + 1} p${k}.${key}`);
        });
      });
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }

  it("rejects invalid settings with errors naming the value", () => {
    expect(() => sgd({ lr: -1 })).toThrow(/lr must be a non-negative number, got -1/);
    expect(() => sgd({ momentum: 0, nesterov: true })).toThrow(/nesterov/);
    expect(() => adam({ beta1: 1 })).toThrow(/beta1 must be in \[0, 1\), got 1/);
  });
});

describe("config()", () => {
  it("reports the learning rate in use, not the initial one", () => {
    for (const make of [() => sgd({ lr: 0.1 }), () => adam({ lr: 0.1 }), () => adamW({ lr: 0.1 }), () => rmsprop({ lr: 0.1 })]) {
      const opt = make();
      expect(opt.config().lr).toBe(0.1);
      opt.lr = 0.025;
      expect(opt.config().lr).toBe(0.025);
      opt.dispose();
    }
  });
});
