import { activationProgram, applyActivation, trainableParams } from "../activation/apply.js";
import type { BoundActivation } from "../activation/contract.js";
import { resolveActivation } from "../activation/registry.js";
import { noGrad, record } from "../autograd/tape.js";
import { derive } from "../expr/derive.js";
import { type Expr, input, mapExpr } from "../expr/expr.js";
import { ShapeError, fmtShape } from "../errors.js";
import { defineLayer, ConfigReader } from "../layer/registry.js";
import { add } from "../ops/elementwise.js";
import { fused } from "../ops/fused.js";
import { matmul } from "../ops/matmul.js";
import { sum } from "../ops/reduce.js";
import { reshape } from "../ops/shape-ops.js";
import { Storage, engine } from "../tensor/engine.js";
import { Tensor } from "../tensor/tensor.js";
import type { Variable } from "../tensor/variable.js";
import { type InitializerSpec, checkInitializer } from "../training/initializers.js";

export interface DenseConfig {
  /** Output features. */
  readonly units: number;
  /** f in a = f(x·W + b); default "linear" (none). */
  readonly activation: BoundActivation;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  /** Input features, for a first layer built before it sees data. */
  readonly inputShape?: readonly number[];
}

/** Replaces input(0) by `z` and output() by input(2) in an activation expression. */
function substitute(e: Expr, z: Expr): Expr {
  return mapExpr(e, (n) => (n.node.kind === "input" && n.node.index === 0 ? z : n.node.kind === "output" ? input(2) : undefined));
}

/**
 * a = f(x·W + b) as one matmul and one fused bias+activation pass (or one kernel where the backend has a
 * matmul epilogue), with a hand-written backward: dz = g·f'(z) in one pass, then dW = xᵀ·dz, db = Σ dz,
 * dx = dz·Wᵀ without materialised transposes.
 */
function fusedDense(x: Tensor, kernel: Variable, bias: Variable | undefined, act: BoundActivation): Tensor {
  const prog = activationProgram(act);
  const backend = engine.backend;
  const epilogue = backend.kernels?.matmulEpilogue;
  const recording = engine.noGradDepth === 0 && [x, kernel, bias].some((t) => t?.requiresGrad);
  const [batch, inF] = [x.shape[0]!, x.shape[1]!];
  const units = kernel.shape[1]!;
  let pre: Tensor; // what the backward pass reads z from: z itself, or x·W when the bias is added on the fly
  let a: Tensor;
  let zExpr: Expr;
  if (epilogue) {
    const out = backend.alloc(batch * units);
    const z = recording ? backend.alloc(batch * units) : undefined;
    epilogue({
      a: x.storage.id, b: kernel.storage.id, out, batch: 1, m: batch, n: units, k: inF, transposeA: false, transposeB: false,
      aBatchStride: 0, bBatchStride: 0, bias: bias?.storage.id, activation: prog.program, scalars: prog.scalars, preActivation: z,
    });
    a = new Tensor(new Storage(backend, out, batch * units), [batch, units]);
    if (!recording) return a;
    pre = new Tensor(new Storage(backend, z!, batch * units), [batch, units]);
    zExpr = input(0);
  } else {
    pre = noGrad(() => matmul(x, kernel));
    zExpr = bias ? input(0).add(input(1)) : input(0);
    a = noGrad(() => fused(act.plugin.name, substitute(prog.program, zExpr), bias ? [pre, bias] : [pre], prog.scalars));
    if (!recording) {
      pre.dispose();
      return a;
    }
  }
  const dfdz = substitute(prog.dx ?? derive(prog.program, 0), zExpr);
  return record(a, "dense", bias ? [x, kernel, bias] : [x, kernel], (g) => {
    const dz = dfdz.node.kind === "const" && dfdz.node.value === 1 ? g : fused("dense'", input(3).mul(dfdz), [pre, bias ?? pre, a, g], prog.scalars);
    return [
      x.requiresGrad ? matmul(dz, kernel, { transposeB: true }) : undefined,
      kernel.requiresGrad ? matmul(x, dz, { transposeA: true }) : undefined,
      bias?.requiresGrad ? sum(dz, 0) : undefined,
    ];
  });
}

function isPlainSoftmax(act: BoundActivation): boolean {
  const { axis = -1, temperature = 1 } = act.params;
  return act.plugin.name === "softmax" && temperature === 1 && (axis === -1 || axis === 1);
}

/** The dense (fully connected) layer: a = f(x·W + b), W of shape [in, units]. */
export const dense = defineLayer<DenseConfig>({
  name: "dense",
  package: "@neurite/core",
  version: "0.1.0",
  description: "fully connected: a = f(x·W + b), W of shape [in, units]",
  configure(config) {
    const r = new ConfigReader("dense", config, ["units", "activation", "useBias", "kernelInitializer", "biasInitializer", "inputShape"]);
    return {
      units: r.int("units"),
      activation: resolveActivation((r.raw("activation") as never) ?? "linear"),
      useBias: r.bool("useBias", true),
      kernelInitializer: checkInitializer(r.raw("kernelInitializer") ?? "glorotUniform", "dense kernelInitializer"),
      biasInitializer: checkInitializer(r.raw("biasInitializer") ?? "zeros", "dense biasInitializer"),
      ...(r.shape("inputShape") ? { inputShape: r.shape("inputShape") } : {}),
    };
  },
  build(config, inputShape, ctx) {
    const inF = inputShape[inputShape.length - 1];
    if (inF === undefined) throw new ShapeError(`layer dense: input shape ${fmtShape(inputShape)} has no feature axis`);
    const kernel = ctx.addWeight("kernel", [inF, config.units], config.kernelInitializer);
    const bias = config.useBias ? ctx.addWeight("bias", [config.units], config.biasInitializer) : undefined;
    const act = config.activation;
    const actWeights: Record<string, Variable> = {};
    for (const k of trainableParams(act.plugin)) {
      const perChannel = act.plugin.params[k]!.perChannel;
      actWeights[k] = ctx.addWeight(`activation.${k}`, perChannel ? [config.units] : [1], { name: "constant", value: act.params[k] as number });
    }
    const canFuse = act.plugin.type === "elementwise" && Object.keys(actWeights).length === 0;
    const linearPart = (x2: Tensor): Tensor => {
      const mm = matmul(x2, kernel);
      if (!bias) return mm;
      const z = add(mm, bias);
      if (!mm.requiresGrad) mm.dispose();
      return z;
    };
    // Dense acts on the last axis; other leading axes are flattened into the batch
    const flat = (x: Tensor, f: (x2: Tensor) => Tensor): Tensor => {
      if (x.shape[x.rank - 1] !== inF) {
        throw new ShapeError(`layer dense: expected inputs with ${inF} features on the last axis, got shape ${fmtShape(x.shape)}`);
      }
      if (x.rank === 2) return f(x);
      const x2 = reshape(x, [-1, inF]);
      const y2 = f(x2);
      return reshape(y2, [...x.shape.slice(0, -1), config.units]);
    };
    return {
      outputShape: [...inputShape.slice(0, -1), config.units],
      call: (x) =>
        flat(x, (x2) => {
          if (canFuse) return fusedDense(x2, kernel, bias, act);
          const z = linearPart(x2);
          const y = applyActivation(z, act, actWeights);
          if (!z.requiresGrad) z.dispose();
          return y;
        }),
      // a plain softmax over the features lets cross-entropy be computed from the logits (fused and stable)
      ...(isPlainSoftmax(act) ? { logits: (x: Tensor) => flat(x, linearPart) } : {}),
    };
  },
});


