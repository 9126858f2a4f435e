import { noGrad } from "../autograd/tape.js";
import { type Expr, input, scalar } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape, fmtValue } from "../errors.js";
import { zerosLike } from "../ops/create.js";
import { fused } from "../ops/fused.js";
import { engine } from "../tensor/engine.js";
import { sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { Variable } from "../tensor/variable.js";

/**
 * An optimizer with PyTorch's semantics. `step` updates each variable in place from its gradient; the
 * learning rate may be changed between steps (`optimizer.lr = …`).
 */
export interface Optimizer {
  readonly name: string;
  lr: number;
  /** Applies one update to `params` from `grads` (same order, same shapes). */
  step(params: readonly Variable[], grads: readonly Tensor[]): void;
  /** The hyper-parameters, for saving and display. */
  config(): Record<string, number | boolean>;
  /** Frees the optimizer's state (moment buffers). */
  dispose(): void;
  /**
   * The state buffers kept for `param`, by name ("momentum"; "m", "v", "vMax"; "squareAvg", "gradAvg"),
   * empty before its first step. For inspection and tests: the tensors are the optimizer's own, do not modify them.
   */
  state?(param: Variable): Readonly<Record<string, Tensor>>;
}

export interface SgdOptions {
  readonly lr?: number;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

export interface AdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly amsgrad?: boolean;
}

export interface RmspropOptions {
  readonly lr?: number;
  readonly alpha?: number;
  readonly eps?: number;
  readonly momentum?: number;
  readonly centered?: boolean;
  readonly weightDecay?: number;
}

function check(opt: string, name: string, v: unknown, ok: (v: number) => boolean, expected: string): number {
  if (typeof v !== "number" || !ok(v)) throw new ArgumentError(`${opt}: ${name} must be ${expected}, got ${fmtValue(v)}`);
  return v;
}
const nonNeg = (v: number) => Number.isFinite(v) && v >= 0;
const unit = (v: number) => v >= 0 && v < 1;

/** Per-variable state buffers, created on the first step (zeros, like PyTorch's lazy state). */
class State {
  private readonly buffers = new Map<Variable, Map<string, Variable>>();
  get(p: Variable, key: string): Variable {
    let m = this.buffers.get(p);
    if (!m) this.buffers.set(p, (m = new Map<string, Variable>()));
    let b = m.get(key);
    if (!b) {
      const z = zerosLike(p);
      b = new Variable(z, `${p.name}.${key}`, false);
      z.dispose();
      m.set(key, b);
    }
    return b;
  }
  has(p: Variable, key: string): boolean {
    return this.buffers.get(p)?.has(key) ?? false;
  }
  view(p: Variable): Readonly<Record<string, Tensor>> {
    return Object.fromEntries(this.buffers.get(p) ?? []);
  }
  dispose(): void {
    for (const m of this.buffers.values()) for (const b of m.values()) b.dispose();
    this.buffers.clear();
  }
}

function pairs(opt: string, params: readonly Variable[], grads: readonly Tensor[]): [Variable, Tensor][] {
  if (params.length !== grads.length) throw new ArgumentError(`${opt}.step: ${params.length} parameters but ${grads.length} gradients`);
  return params.map((p, i) => {
    const g = grads[i]!;
    if (!sameShape(p.shape, g.shape)) throw new ShapeError(`${opt}.step: gradient ${fmtShape(g.shape)} does not match parameter ${p.name} ${fmtShape(p.shape)}`);
    return [p, g];
  });
}

/** Writes fused(program, inputs) into `target` (the update of one buffer, one kernel). */
function update(target: Variable, program: Expr, inputs: Tensor[], scalars: number[]): void {
  const t = fused("optimizer", program, inputs, scalars);
  target.assign(t);
  t.dispose();
}

const P = input(0);
const G = input(1);
const B = input(2);
// scalars: 0 lr, 1 momentum, 2 dampening, 3 weightDecay
const SGD_GRAD = G.add(scalar(3).mul(P));
const SGD_BUF = B.mul(scalar(1)).add(scalar(2).mul(-1).add(1).mul(SGD_GRAD));
const SGD_PLAIN = P.sub(scalar(0).mul(SGD_GRAD));

/** Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay (PyTorch's SGD). */
export function sgd(options: SgdOptions = {}): Optimizer {
  const lr0 = check("sgd", "lr", options.lr ?? 0.01, nonNeg, "a non-negative number");
  const momentum = check("sgd", "momentum", options.momentum ?? 0, nonNeg, "a non-negative number");
  const dampening = check("sgd", "dampening", options.dampening ?? 0, nonNeg, "a non-negative number");
  const weightDecay = check("sgd", "weightDecay", options.weightDecay ?? 0, nonNeg, "a non-negative number");
  const nesterov = options.nesterov ?? false;
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ArgumentError("sgd: nesterov needs momentum > 0 and dampening 0");
  const state = new State();
  return {
    name: "sgd",
    lr: lr0,
    step(params, grads) {
      const s = [this.lr, momentum, dampening, weightDecay];
      noGrad(() => {
        for (const [p, g] of pairs("sgd", params, grads)) {
          if (momentum === 0) {
            update(p, SGD_PLAIN, [p, g], s);
            continue;
          }
          const first = !state.has(p, "momentum");
          const buf = state.get(p, "momentum");
          // the first step sets buf = g (no dampening), as PyTorch
          update(buf, first ? SGD_GRAD : SGD_BUF, [p, g, buf], s);
          const d = nesterov ? SGD_GRAD.add(scalar(1).mul(B)) : B;
          update(p, P.sub(scalar(0).mul(d)), [p, g, buf], s);
        }
      });
    },
    config: () => ({ lr: lr0, momentum, dampening, nesterov, weightDecay }),
    dispose: () => state.dispose(),
    state: (p) => state.view(p),
  };
}

const M = input(2);
const V = input(3);
// scalars: 0 lr, 1 beta1, 2 beta2, 3 eps, 4 weightDecay (L2), 5 bc1, 6 bc2, 7 decoupled decay
const ADAM_GRAD = G.add(scalar(4).mul(P));
const ADAM_M = M.mul(scalar(1)).add(scalar(1).mul(-1).add(1).mul(ADAM_GRAD));
const ADAM_V = V.mul(scalar(2)).add(scalar(2).mul(-1).add(1).mul(ADAM_GRAD).mul(ADAM_GRAD));
// v here is the (possibly amsgrad-maximised) second moment already updated
const ADAM_P = P.mul(scalar(0).mul(scalar(7)).mul(-1).add(1)).sub(scalar(0).mul(M.div(scalar(5))).div(V.div(scalar(6)).sqrt().add(scalar(3))));

function adamLike(name: string, options: AdamOptions, decoupled: boolean): Optimizer {
  const lr0 = check(name, "lr", options.lr ?? 1e-3, nonNeg, "a non-negative number");
  const beta1 = check(name, "beta1", options.beta1 ?? 0.9, unit, "in [0, 1)");
  const beta2 = check(name, "beta2", options.beta2 ?? 0.999, unit, "in [0, 1)");
  const eps = check(name, "eps", options.eps ?? 1e-8, nonNeg, "a non-negative number");
  const weightDecay = check(name, "weightDecay", options.weightDecay ?? (decoupled ? 1e-2 : 0), nonNeg, "a non-negative number");
  const amsgrad = options.amsgrad ?? false;
  const state = new State();
  let t = 0;
  return {
    name,
    lr: lr0,
    step(params, grads) {
      t++;
      const bc1 = 1 - beta1 ** t;
      const bc2 = 1 - beta2 ** t;
      const l2 = decoupled ? 0 : weightDecay;
      const decay = decoupled ? weightDecay : 0;
      const s = [this.lr, beta1, beta2, eps, l2, bc1, bc2, decay];
      const kernel = engine.backend.kernels?.adam;
      noGrad(() => {
        for (const [p, g] of pairs(name, params, grads)) {
          const m = state.get(p, "m");
          const v = state.get(p, "v");
          if (kernel && !amsgrad && g.backend === engine.backend && p.backend === engine.backend) {
            // one fused pass over the parameter, its gradient and both moments, in place
            kernel({
              param: p.exclusiveStorageId(), grad: g.storage.id, m: m.exclusiveStorageId(), v: v.exclusiveStorageId(), size: p.size,
              lr: this.lr, beta1, beta2, eps, biasCorrection1: bc1, biasCorrection2: bc2, weightDecay: l2, decoupledWeightDecay: decay,
            });
            continue;
          }
          update(m, ADAM_M, [p, g, m, v], s);
          update(v, ADAM_V, [p, g, m, v], s);
          let vUsed: Variable = v;
          if (amsgrad) {
            vUsed = state.get(p, "vMax");
            update(vUsed, input(0).max(input(1)), [vUsed, v], []);
          }
          update(p, ADAM_P, [p, g, m, vUsed], s);
        }
      });
    },
    config: () => ({ lr: lr0, beta1, beta2, eps, weightDecay, amsgrad }),
    dispose: () => state.dispose(),
    state: (p) => state.view(p),
  };
}

/** Adam (PyTorch semantics: bias-corrected moments, eps added to √v̂; weightDecay adds an L2 term to the gradient). */
export function adam(options: AdamOptions = {}): Optimizer {
  return adamLike("adam", options, false);
}

/** AdamW: Adam with decoupled weight decay (p ← p·(1 − lr·weightDecay) before the update); default weightDecay 0.01. */
export function adamW(options: AdamOptions = {}): Optimizer {
  return adamLike("adamW", options, true);
}

/** RMSprop (PyTorch semantics: square average with smoothing alpha, eps outside the root, optional momentum and centering). */
export function rmsprop(options: RmspropOptions = {}): Optimizer {
  const lr0 = check("rmsprop", "lr", options.lr ?? 1e-2, nonNeg, "a non-negative number");
  const alpha = check("rmsprop", "alpha", options.alpha ?? 0.99, unit, "in [0, 1)");
  const eps = check("rmsprop", "eps", options.eps ?? 1e-8, nonNeg, "a non-negative number");
  const momentum = check("rmsprop", "momentum", options.momentum ?? 0, nonNeg, "a non-negative number");
  const weightDecay = check("rmsprop", "weightDecay", options.weightDecay ?? 0, nonNeg, "a non-negative number");
  const centered = options.centered ?? false;
  const state = new State();
  // inputs: 0 p, 1 g, 2 squareAvg, 3 gradAvg, 4 momentumBuf; scalars: 0 lr, 1 alpha, 2 eps, 3 momentum, 4 weightDecay
  const grad = G.add(scalar(4).mul(P));
  const sq = input(2);
  const ga = input(3);
  const buf = input(4);
  const denom = (centered ? sq.sub(ga.mul(ga)) : sq).sqrt().add(scalar(2));
  return {
    name: "rmsprop",
    lr: lr0,
    step(params, grads) {
      const s = [this.lr, alpha, eps, momentum, weightDecay];
      noGrad(() => {
        for (const [p, g] of pairs("rmsprop", params, grads)) {
          const square = state.get(p, "squareAvg");
          const avg = centered ? state.get(p, "gradAvg") : square;
          const mbuf = momentum > 0 ? state.get(p, "momentum") : square;
          const ins = (): Tensor[] => [p, g, square, avg, mbuf];
          update(square, sq.mul(scalar(1)).add(scalar(1).mul(-1).add(1).mul(grad).mul(grad)), ins(), s);
          if (centered) update(avg, ga.mul(scalar(1)).add(scalar(1).mul(-1).add(1).mul(grad)), ins(), s);
          if (momentum > 0) {
            update(mbuf, buf.mul(scalar(3)).add(grad.div(denom)), ins(), s);
            update(p, P.sub(scalar(0).mul(buf)), ins(), s);
          } else {
            update(p, P.sub(scalar(0).mul(grad).div(denom)), ins(), s);
          }
        }
      });
    },
    config: () => ({ lr: lr0, alpha, eps, momentum, centered, weightDecay }),
    dispose: () => state.dispose(),
    state: (p) => state.view(p),
  };
}

export type OptimizerName = "sgd" | "adam" | "adamW" | "rmsprop";

/** An optimizer object, or a name with default settings. */
export type OptimizerSpec = Optimizer | OptimizerName;

export function resolveOptimizer(spec: OptimizerSpec): Optimizer {
  if (typeof spec === "object" && spec && typeof spec.step === "function") return spec;
  switch (spec) {
    case "sgd": return sgd();
    case "adam": return adam();
    case "adamW": return adamW();
    case "rmsprop": return rmsprop();
    default: throw new ArgumentError(`optimizer must be one of sgd, adam, adamW, rmsprop or an optimizer object, got ${fmtValue(spec)}`);
  }
}
