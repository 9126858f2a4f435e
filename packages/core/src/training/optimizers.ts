import { noGrad } from "../autograd/record.js";
import { type Expr, input, scalar } from "../expr/expr.js";
import { ArgumentError, ShapeError, fmtShape } from "../errors.js";
import { boolean, checkValue, describeValue, finiteNumber, readOptions } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";
import { zerosLike } from "../ops/create.js";
import { fused } from "../ops/fused.js";
import { onActiveBackend } from "../ops/kernel.js";
import { backends } from "../backend/instances.js";
import { sameShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { Variable } from "../tensor/variable.js";
import { type AdamSettings, type CompiledUpdate, InPlaceUpdates } from "./in-place-updates.js";

/**
 * An optimizer with PyTorch's semantics. `step` updates each variable in place from its gradient; the
 * learning rate may be changed between steps (`optimizer.lr = …`).
 */
export interface Optimizer {
  readonly name: string;
  lr: number;
  /** Applies one update to `params` from `grads` (same order, same shapes). */
  step(params: readonly Variable[], grads: readonly Tensor[]): void;
  /** The hyper-parameters, for saving and display: `lr` is the current learning rate. */
  config(): Record<string, number | boolean>;
  /** Frees the optimizer's state (moment buffers). */
  dispose(): void;
  /**
   * The state buffers kept for `param`, by name ("momentum"; "m", "v", "vMax"; "squareAvg", "gradAvg"),
   * empty before its first step. For inspection and tests: the tensors are the optimizer's own, do not modify them.
   */
  state?(param: Variable): Readonly<Record<string, Tensor>>;
  /**
   * Optional: this optimizer's update compiled for exactly these parameters and gradient tensors, writing
   * every buffer in place. Each `run()` applies one step and reads the current settings (`lr`); it must
   * compute what {@link Optimizer.step} computes, bit for bit. Compiled training steps use it; without it
   * (or when it returns undefined) they stay on the eager path.
   */
  compileStep?(params: readonly Variable[], grads: readonly Tensor[]): CompiledUpdate | undefined;
}

/** Options of {@link sgd} (PyTorch's defaults). */
export interface SgdOptions {
  /** The learning rate. @defaultValue 0.01 */
  readonly lr?: number;
  /** The momentum factor; 0 is plain SGD. @defaultValue 0 */
  readonly momentum?: number;
  /** Dampening of the momentum: buf ← momentum·buf + (1 − dampening)·g. @defaultValue 0 */
  readonly dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). @defaultValue false */
  readonly nesterov?: boolean;
  /** L2 penalty added to the gradient: g + weightDecay·p. @defaultValue 0 */
  readonly weightDecay?: number;
}

/** Options of {@link adam} and {@link adamW} (PyTorch's defaults). */
export interface AdamOptions {
  /** The learning rate. @defaultValue 0.001 */
  readonly lr?: number;
  /** Decay of the first-moment average, in [0, 1). @defaultValue 0.9 */
  readonly beta1?: number;
  /** Decay of the second-moment average, in [0, 1). @defaultValue 0.999 */
  readonly beta2?: number;
  /** Added to √v̂ in the denominator. @defaultValue 1e-8 */
  readonly eps?: number;
  /** adam: L2 penalty added to the gradient; adamW: decoupled decay p ← p·(1 − lr·weightDecay). @defaultValue 0 for adam, 0.01 for adamW */
  readonly weightDecay?: number;
  /** Use the running maximum of v̂ (AMSGrad). @defaultValue false */
  readonly amsgrad?: boolean;
}

/** Options of {@link rmsprop} (PyTorch's defaults). */
export interface RmspropOptions {
  /** The learning rate. @defaultValue 0.01 */
  readonly lr?: number;
  /** Smoothing of the square average, in [0, 1). @defaultValue 0.99 */
  readonly alpha?: number;
  /** Added to the root in the denominator. @defaultValue 1e-8 */
  readonly eps?: number;
  /** The momentum factor; 0 is none. @defaultValue 0 */
  readonly momentum?: number;
  /** Normalise by the variance estimate (square average − average²) instead of the square average. @defaultValue false */
  readonly centered?: boolean;
  /** L2 penalty added to the gradient. @defaultValue 0 */
  readonly weightDecay?: number;
}

const nonNeg = finiteNumber({ min: 0, expected: "a non-negative number" });
const unit = finiteNumber({ min: 0, max: 1, maxExclusive: true, expected: "in [0, 1)" });

const SGD_OPTIONS = { lr: nonNeg, momentum: nonNeg, dampening: nonNeg, nesterov: boolean, weightDecay: nonNeg };
const ADAM_OPTIONS = { lr: nonNeg, beta1: unit, beta2: unit, eps: nonNeg, weightDecay: nonNeg, amsgrad: boolean };
const RMSPROP_OPTIONS = { lr: nonNeg, alpha: unit, eps: nonNeg, momentum: nonNeg, centered: boolean, weightDecay: nonNeg };

/**
 * The `lr` property of an optimizer: read by `step`, and checked when set, as strictly as the option
 * (`opt.lr = -5` is refused like `sgd({ lr: -5 })`).
 */
function learningRate(name: string, initial: number): { get lr(): number; set lr(value: number) } {
  let lr = initial;
  return {
    get lr() {
      return lr;
    },
    set lr(value: number) {
      lr = checkValue(name, "lr", value, nonNeg);
    },
  };
}

/** Builds an optimizer object whose `lr` is a checked accessor (an object spread would copy only its value). */
function withLearningRate<O extends Omit<Optimizer, "lr">>(name: string, lr: number, rest: O): O & Optimizer {
  return Object.defineProperties(rest, Object.getOwnPropertyDescriptors(learningRate(name, lr))) as O & Optimizer;
}

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
function update(target: Variable, program: Expr, inputs: Tensor[], scalars: readonly number[]): void {
  const t = fused("optimizer", program, inputs, scalars);
  target.assign(t);
  t.dispose();
}

/**
 * Writes program(inputs) into target: the one description of an update that both the eager step (a new
 * buffer, assigned) and a compiled step ({@link InPlaceUpdates}, in place) run. `scalars` are fixed
 * ones; when omitted, the step's.
 */
type Emit = (target: Variable, program: Expr, inputs: Tensor[], scalars?: readonly number[]) => void;

/** The eager form of {@link Emit}, with the step's scalars. */
const eagerEmit = (stepScalars: readonly number[]): Emit => (target, program, inputs, scalars) => update(target, program, inputs, scalars ?? stepScalars);

/**
 * The compiled form of an optimizer's step (see {@link Optimizer.compileStep}): owns every buffer it
 * writes, records each update once, and runs them in place with fresh scalars at each call.
 */
function compileUpdates(
  opt: string, params: readonly Variable[], grads: readonly Tensor[], stateOf: (p: Variable) => Variable[],
  record: (p: Variable, g: Tensor, updates: InPlaceUpdates) => void, step: (updates: InPlaceUpdates) => void,
): CompiledUpdate {
  const updates = new InPlaceUpdates(backends.active);
  const list = pairs(opt, params, grads);
  updates.own(list.flatMap(([p]) => [p, ...stateOf(p)]));
  for (const [p, g] of list) record(p, onActiveBackend(g, opt), updates);
  return { run: () => step(updates), valid: () => updates.valid() };
}

/** 1 − e, written (−e) + 1 as the update programs have always computed it (the same float32 result). */
const oneMinus = (e: Expr): Expr => e.mul(-1).add(1);

// every update program reads the parameter and its gradient first; the state buffers follow
const param = input(0);
const gradient = input(1);

// sgd: input 2 is the momentum buffer; the scalars are [lr, momentum, dampening, weightDecay]
const sgdMomentumBuffer = input(2);
const SGD = { lr: scalar(0), momentum: scalar(1), dampening: scalar(2), weightDecay: scalar(3) };
const SGD_GRAD = gradient.add(SGD.weightDecay.mul(param));
const SGD_BUF = sgdMomentumBuffer.mul(SGD.momentum).add(oneMinus(SGD.dampening).mul(SGD_GRAD));
const SGD_PLAIN = param.sub(SGD.lr.mul(SGD_GRAD));
const SGD_MOMENTUM_STEP = param.sub(SGD.lr.mul(sgdMomentumBuffer));
const SGD_NESTEROV_STEP = param.sub(SGD.lr.mul(SGD_GRAD.add(SGD.momentum.mul(sgdMomentumBuffer))));

/** Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay (PyTorch's SGD). */
export function sgd(options: SgdOptions = {}): Optimizer {
  const o = readOptions("sgd", options, SGD_OPTIONS);
  const lr0 = o.lr ?? 0.01;
  const momentum = o.momentum ?? 0;
  const dampening = o.dampening ?? 0;
  const weightDecay = o.weightDecay ?? 0;
  const nesterov = o.nesterov ?? false;
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ArgumentError("sgd: nesterov needs momentum > 0 and dampening 0");
  const state = new State();
  const updatesOf = (p: Variable, g: Tensor, emit: Emit): void => {
    if (momentum === 0) {
      emit(p, SGD_PLAIN, [p, g]);
      return;
    }
    const first = !state.has(p, "momentum");
    const buf = state.get(p, "momentum");
    // the first step sets buf = g (no dampening), as PyTorch
    emit(buf, first ? SGD_GRAD : SGD_BUF, [p, g, buf]);
    emit(p, nesterov ? SGD_NESTEROV_STEP : SGD_MOMENTUM_STEP, [p, g, buf]);
  };
  return withLearningRate("sgd", lr0, {
    name: "sgd",
    step(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      const emit = eagerEmit([this.lr, momentum, dampening, weightDecay]);
      noGrad(() => {
        for (const [p, g] of pairs("sgd", params, grads)) updatesOf(p, g, emit);
      });
    },
    compileStep(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      // a compiled step replays the later steps' programs; the first step's differs
      if (momentum > 0 && params.some((p) => !state.has(p, "momentum"))) return undefined;
      return compileUpdates("sgd", params, grads, (p) => (momentum > 0 ? [state.get(p, "momentum")] : []),
        (p, g, updates) => updatesOf(p, g, (t, program, inputs, scalars) => updates.elementwise(t, program, inputs, scalars)),
        (updates) => updates.run([this.lr, momentum, dampening, weightDecay]));
    },
    config(this: Optimizer) {
      return { lr: this.lr, momentum, dampening, nesterov, weightDecay };
    },
    dispose: () => state.dispose(),
    state: (p: Variable) => state.view(p),
  });
}

// adam: inputs 2 and 3 are the first and second moments; the scalars follow ADAM's order
const firstMoment = input(2);
const secondMoment = input(3);
const ADAM = {
  lr: scalar(0), beta1: scalar(1), beta2: scalar(2), eps: scalar(3),
  /** adam's L2 term (0 for adamW) */
  l2: scalar(4),
  /** 1 − β1ᵗ and 1 − β2ᵗ */
  biasCorrection1: scalar(5), biasCorrection2: scalar(6),
  /** adamW's decoupled decay (0 for adam) */
  decoupledDecay: scalar(7),
};
const ADAM_GRAD = gradient.add(ADAM.l2.mul(param));
const ADAM_M = firstMoment.mul(ADAM.beta1).add(oneMinus(ADAM.beta1).mul(ADAM_GRAD));
const ADAM_V = secondMoment.mul(ADAM.beta2).add(oneMinus(ADAM.beta2).mul(ADAM_GRAD).mul(ADAM_GRAD));
// p·(1 − lr·decay) − lr·m̂ / (√v̂ + eps), with v the (possibly amsgrad-maximised) second moment already updated
const ADAM_P = param.mul(oneMinus(ADAM.lr.mul(ADAM.decoupledDecay)))
  .sub(ADAM.lr.mul(firstMoment.div(ADAM.biasCorrection1)).div(secondMoment.div(ADAM.biasCorrection2).sqrt().add(ADAM.eps)));
const ELEMENTWISE_MAX = input(0).max(input(1));

function adamLike(name: string, options: AdamOptions, decoupled: boolean): Optimizer {
  const o = readOptions(name, options, ADAM_OPTIONS);
  const lr0 = o.lr ?? 1e-3;
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  const weightDecay = o.weightDecay ?? (decoupled ? 1e-2 : 0);
  const amsgrad = o.amsgrad ?? false;
  const l2 = decoupled ? 0 : weightDecay;
  const decay = decoupled ? weightDecay : 0;
  const state = new State();
  let t = 0;
  /** Advances the step count; this step's settings. */
  const nextStep = (lr: number): AdamSettings => {
    t++;
    return { lr, beta1, beta2, eps, biasCorrection1: 1 - beta1 ** t, biasCorrection2: 1 - beta2 ** t, weightDecay: l2, decoupledWeightDecay: decay };
  };
  const scalarsOf = (a: AdamSettings): number[] => [a.lr, beta1, beta2, eps, l2, a.biasCorrection1, a.biasCorrection2, decay];
  const stateOf = (p: Variable): Variable[] => [state.get(p, "m"), state.get(p, "v"), ...(amsgrad ? [state.get(p, "vMax")] : [])];
  // the fused kernel does all of one parameter's update in one pass; amsgrad has no kernel
  const fusedKernel = (): boolean => !amsgrad && backends.active.kernels?.adam !== undefined;
  const updatesOf = (p: Variable, g: Tensor, emit: Emit): void => {
    const m = state.get(p, "m");
    const v = state.get(p, "v");
    emit(m, ADAM_M, [p, g, m, v]);
    emit(v, ADAM_V, [p, g, m, v]);
    let vUsed: Variable = v;
    if (amsgrad) {
      vUsed = state.get(p, "vMax");
      emit(vUsed, ELEMENTWISE_MAX, [vUsed, v], []);
    }
    emit(p, ADAM_P, [p, g, m, vUsed]);
  };
  return withLearningRate(name, lr0, {
    name,
    step(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      const settings = nextStep(this.lr);
      const kernel = fusedKernel() ? backends.active.kernels!.adam! : undefined;
      const emit = eagerEmit(scalarsOf(settings));
      noGrad(() => {
        for (const [p, g] of pairs(name, params, grads)) {
          if (!kernel) {
            updatesOf(p, g, emit);
            continue;
          }
          const [m, v] = stateOf(p) as [Variable, Variable];
          // one fused pass over the parameter, its gradient and both moments, in place; the kernel reads
          // buffer ids, so state made on another backend (before a setBackend) moves here first
          for (const x of [p, g, m, v]) onActiveBackend(x, name);
          kernel({ param: p.exclusiveStorageId(), grad: g.storage.id, m: m.exclusiveStorageId(), v: v.exclusiveStorageId(), size: p.size, ...settings });
        }
      });
    },
    compileStep(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      const useKernel = fusedKernel();
      return compileUpdates(name, params, grads, stateOf,
        (p, g, updates) => {
          if (useKernel) updates.adam(p, g, state.get(p, "m"), state.get(p, "v"));
          else updatesOf(p, g, (target, program, inputs, scalars) => updates.elementwise(target, program, inputs, scalars));
        },
        (updates) => {
          const settings = nextStep(this.lr);
          updates.run(scalarsOf(settings), settings);
        });
    },
    config(this: Optimizer) {
      return { lr: this.lr, beta1, beta2, eps, weightDecay, amsgrad };
    },
    dispose: () => state.dispose(),
    state: (p: Variable) => state.view(p),
  });
}

/** Adam (PyTorch semantics: bias-corrected moments, eps added to √v̂; weightDecay adds an L2 term to the gradient). */
export function adam(options: AdamOptions = {}): Optimizer {
  return adamLike("adam", options, false);
}

/** AdamW: Adam with decoupled weight decay (PyTorch's AdamW, default weightDecay 0.01). */
export function adamW(options: AdamOptions = {}): Optimizer {
  return adamLike("adamW", options, true);
}

/** RMSprop (PyTorch semantics: square average with smoothing alpha, eps outside the root, optional momentum and centering). */
export function rmsprop(options: RmspropOptions = {}): Optimizer {
  const o = readOptions("rmsprop", options, RMSPROP_OPTIONS);
  const lr0 = o.lr ?? 1e-2;
  const alpha = o.alpha ?? 0.99;
  const eps = o.eps ?? 1e-8;
  const momentum = o.momentum ?? 0;
  const weightDecay = o.weightDecay ?? 0;
  const centered = o.centered ?? false;
  const state = new State();
  // inputs: param, gradient, then the square average, the gradient average and the momentum buffer
  const squareAverage = input(2);
  const gradientAverage = input(3);
  const momentumBuffer = input(4);
  const RMS = { lr: scalar(0), alpha: scalar(1), eps: scalar(2), momentum: scalar(3), weightDecay: scalar(4) };
  const grad = gradient.add(RMS.weightDecay.mul(param));
  const denom = (centered ? squareAverage.sub(gradientAverage.mul(gradientAverage)) : squareAverage).sqrt().add(RMS.eps);
  const SQUARE_AVERAGE = squareAverage.mul(RMS.alpha).add(oneMinus(RMS.alpha).mul(grad).mul(grad));
  const GRADIENT_AVERAGE = gradientAverage.mul(RMS.alpha).add(oneMinus(RMS.alpha).mul(grad));
  const MOMENTUM_BUFFER = momentumBuffer.mul(RMS.momentum).add(grad.div(denom));
  const MOMENTUM_STEP = param.sub(RMS.lr.mul(momentumBuffer));
  const PLAIN_STEP = param.sub(RMS.lr.mul(grad).div(denom));
  const buffersOf = (p: Variable): [Variable, Variable, Variable] => {
    const square = state.get(p, "squareAvg");
    return [square, centered ? state.get(p, "gradAvg") : square, momentum > 0 ? state.get(p, "momentum") : square];
  };
  const updatesOf = (p: Variable, g: Tensor, emit: Emit): void => {
    const [square, avg, mbuf] = buffersOf(p);
    const ins = (): Tensor[] => [p, g, square, avg, mbuf];
    emit(square, SQUARE_AVERAGE, ins());
    if (centered) emit(avg, GRADIENT_AVERAGE, ins());
    if (momentum > 0) {
      emit(mbuf, MOMENTUM_BUFFER, ins());
      emit(p, MOMENTUM_STEP, ins());
    } else {
      emit(p, PLAIN_STEP, ins());
    }
  };
  const scalarsOf = (lr: number): number[] => [lr, alpha, eps, momentum, weightDecay];
  return withLearningRate("rmsprop", lr0, {
    name: "rmsprop",
    step(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      const emit = eagerEmit(scalarsOf(this.lr));
      noGrad(() => {
        for (const [p, g] of pairs("rmsprop", params, grads)) updatesOf(p, g, emit);
      });
    },
    compileStep(this: Optimizer, params: readonly Variable[], grads: readonly Tensor[]) {
      return compileUpdates("rmsprop", params, grads, (p) => [...new Set(buffersOf(p))],
        (p, g, updates) => updatesOf(p, g, (target, program, inputs, scalars) => updates.elementwise(target, program, inputs, scalars)),
        (updates) => updates.run(scalarsOf(this.lr)));
    },
    config(this: Optimizer) {
      return { lr: this.lr, alpha, eps, momentum, centered, weightDecay };
    },
    dispose: () => state.dispose(),
    state: (p: Variable) => state.view(p),
  });
}

export type OptimizerName = "sgd" | "adam" | "adamW" | "rmsprop";

/** An optimizer object, or a name with default settings. */
export type OptimizerSpec = Optimizer | OptimizerName;

const OPTIMIZERS: ReadonlyMap<string, () => Optimizer> = new Map([["sgd", () => sgd()], ["adam", () => adam()], ["adamW", () => adamW()], ["rmsprop", () => rmsprop()]]);

/** An optimizer object, or a new one with default settings for a name ("did you mean" for a typo). */
export function resolveOptimizer(spec: OptimizerSpec): Optimizer {
  if (typeof spec === "object" && spec !== null && typeof (spec as Partial<Optimizer>).step === "function") return spec;
  const names = [...OPTIMIZERS.keys()];
  const usage = `use one of ${names.join(", ")} or an optimizer object such as adam({ lr: 0.001 })`;
  if (typeof spec !== "string") throw new ArgumentError(`optimizer must be a name or an optimizer object, got ${describeValue(spec)}; ${usage}`);
  const make = OPTIMIZERS.get(spec);
  if (!make) throw new ArgumentError(`unknown optimizer ${JSON.stringify(spec)}${didYouMean(spec, names)}; ${usage}`);
  return make();
}
