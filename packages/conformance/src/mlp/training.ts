/** Optimizers and training for MLP files: PyTorch hyper-parameters mapped to core's optimizers, full-batch steps. */
import { type Optimizer, adam, adamW, noGrad, rmsprop, scope, sgd, valueAndGradOf } from "@neurite/core";
import type { Tolerance } from "@neurite/testkit";
import { MLP_TOLERANCES } from "./checks.js";
import { compileSpec } from "./losses.js";
import { type Setup, needLoss, outputFrom, read, toTensor, variableOf, withNet } from "./network.js";
import { HyperSchema, type Json, STATE_FIELDS, Unsupported, preview, sectionIssues } from "./schema.js";


/** PyTorch implementation switches that do not change the numbers (accepted when off). */
const NEUTRAL_HYPER = new Set(["foreach", "capturable", "differentiable", "fused", "maximize"]);

function num(hyper: Json, key: string, def: number): number {
  const v = hyper[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "number") throw new Unsupported(`hyper ${key} is not a number: ${JSON.stringify(v)}`);
  return v;
}

function flag(hyper: Json, key: string, def: boolean): boolean {
  const v = hyper[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") throw new Unsupported(`hyper ${key} is not true/false: ${JSON.stringify(v)}`);
  return v;
}

/** An optimizer from a section name (sgd, sgd_momentum, nesterov, adam, adamw, rmsprop, …) and PyTorch hyper-parameters. */
export function makeOptimizer(kind: string, hyper: Json): Optimizer {
  for (const issue of sectionIssues(HyperSchema, hyper, "hyper")) {
    const value = hyper[issue.key];
    if (issue.unknown && NEUTRAL_HYPER.has(issue.key) && (value === null || value === false)) continue;
    throw new Unsupported(issue.unknown ? `hyper-parameter ${issue.key} = ${preview(value)} is not one this runner knows; use ${Object.keys(HyperSchema.entries).join(", ")}` : issue.message);
  }
  const k = kind.toLowerCase();
  let betas: [number, number] = [num(hyper, "beta1", 0.9), num(hyper, "beta2", 0.999)];
  if (hyper.betas !== undefined) {
    const b = hyper.betas;
    if (!Array.isArray(b) || b.length !== 2 || b.some((v) => typeof v !== "number")) throw new Unsupported(`hyper betas is not [beta1, beta2]: ${JSON.stringify(b)}`);
    betas = [b[0] as number, b[1] as number];
  }
  if (/^(sgd|momentum|nesterov)/.test(k)) {
    return sgd({
      lr: num(hyper, "lr", 1e-3),
      momentum: num(hyper, "momentum", k.includes("momentum") || k.includes("nesterov") ? 0.9 : 0),
      dampening: num(hyper, "dampening", 0),
      nesterov: flag(hyper, "nesterov", k.includes("nesterov")),
      weightDecay: num(hyper, "weight_decay", 0),
    });
  }
  if (/^(adam|amsgrad)/.test(k)) {
    const decoupled = k.startsWith("adamw") || k.startsWith("adam_w");
    const options = {
      lr: num(hyper, "lr", 1e-3),
      beta1: betas[0],
      beta2: betas[1],
      eps: num(hyper, "eps", 1e-8),
      weightDecay: num(hyper, "weight_decay", decoupled ? 1e-2 : 0),
      amsgrad: flag(hyper, "amsgrad", k.includes("amsgrad")),
    };
    return decoupled ? adamW(options) : adam(options);
  }
  if (k.startsWith("rmsprop")) {
    return rmsprop({
      lr: num(hyper, "lr", 1e-2),
      alpha: num(hyper, "alpha", 0.99),
      eps: num(hyper, "eps", 1e-8),
      momentum: num(hyper, "momentum", 0),
      centered: flag(hyper, "centered", k.includes("centered")),
      weightDecay: num(hyper, "weight_decay", 0),
    });
  }
  throw new Unsupported(`optimizer ${JSON.stringify(kind)} is not one this runner knows (sgd, sgd_momentum, nesterov, adam, adamw, amsgrad, rmsprop)`);
}

/** The tolerance of each recorded optimizer state field: first moments are gradient-like, second moments squared. */
export const STATE_TOLERANCES: Readonly<Record<string, Tolerance>> = Object.fromEntries(
  Object.entries(STATE_FIELDS).map(([field, { moment }]) => [field, moment === "first" ? MLP_TOLERANCES.firstMoment : MLP_TOLERANCES.secondMoment]),
);

export interface StepRecord {
  readonly lossBefore: number;
  readonly params: Map<string, number[]>;
  /** buffer name → parameter name → values */
  readonly state: Map<string, Map<string, number[]>>;
}

export interface StepRequest {
  /** Parameter names whose values (and state) this step records. */
  readonly names: readonly string[];
  readonly stateKeys: readonly string[];
  readonly lr: number | undefined;
}

/**
 * Full-batch training from the initial parameters with a fresh optimizer for `steps` steps; step k (1-based)
 * is recorded where `requests` asks. Uses the model's own trainOnBatch where the loss has a compile() form.
 * `losses[k]` is the full-batch loss after k updates, for every k from 0 to `steps`.
 */
export function train(setup: Setup, makeOpt: () => Optimizer, steps: number, requests: ReadonlyMap<number, StepRequest>): { records: Map<number, StepRecord>; losses: number[] } {
  const plan = needLoss(setup);
  return withNet(setup, (net) =>
    scope(() => {
      const optimizer = makeOpt();
      const spec = compileSpec(plan, setup.acts[setup.acts.length - 1]!);
      if (spec !== undefined) net.model.compile({ optimizer, loss: spec });
      const x = toTensor(setup.x);
      const t = toTensor(plan.targets);
      const params = net.model.trainableWeights;
      const records = new Map<number, StepRecord>();
      const losses: number[] = [];
      try {
        for (let k = 1; k <= steps; k++) {
          const req = requests.get(k);
          if (req?.lr !== undefined) optimizer.lr = req.lr;
          if (spec !== undefined) {
            losses.push(net.model.trainOnBatch(x, t).loss!);
          } else {
            losses.push(
              scope(() => {
                const { value, grads } = valueAndGradOf(() => plan.fn(t, outputFrom(net, 0, x, plan)), params);
                optimizer.step(params, grads);
                return value.item();
              }),
            );
          }
          if (!req) continue;
          const state = new Map<string, Map<string, number[]>>();
          for (const key of req.stateKeys) {
            const m = new Map<string, number[]>();
            for (const name of req.names) {
              const held = optimizer.state?.(variableOf(net, name));
              if (!held) throw new Unsupported(`optimizer ${optimizer.name} does not expose its state`);
              const buf = held[key];
              if (!buf) throw new Unsupported(`optimizer ${optimizer.name} keeps no "${key}" buffer (it has: ${Object.keys(held).join(", ") || "none"})`);
              m.set(name, read(buf));
            }
            state.set(key, m);
          }
          records.set(k, { lossBefore: losses[k - 1]!, params: new Map(req.names.map((name) => [name, read(variableOf(net, name))])), state });
        }
        losses.push(noGrad(() => scope(() => plan.fn(t, outputFrom(net, 0, x, plan)).item())));
      } finally {
        if (spec === undefined) optimizer.dispose(); // a compiled optimizer goes with the model
      }
      return { records, losses };
    }),
  );
}

