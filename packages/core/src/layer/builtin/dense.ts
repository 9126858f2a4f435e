import { type ActivationProgram, activationProgram, applyActivation, trainableParams } from "../../activation/apply.js";
import type { BoundActivation } from "../../activation/contract.js";
import { resolveActivation } from "../../activation/registry.js";
import { noGrad, record, releaseTemporaries } from "../../autograd/record.js";
import { scopeState } from "../../autograd/scope-state.js";
import { backends } from "../../backend/instances.js";
import { derive } from "../../expr/derive.js";
import { type Expr, compactInputs, input, mapExpr } from "../../expr/expr.js";
import { ShapeError, fmtShape } from "../../errors.js";
import { defineLayer, ConfigReader } from "../define.js";
import { add } from "../../ops/elementwise.js";
import { fused } from "../../ops/fused.js";
import { onActiveBackend } from "../../ops/kernel.js";
import { matmul } from "../../ops/matmul.js";
import { sum } from "../../ops/reduce.js";
import { reshape } from "../../ops/shape-ops.js";
import { Storage } from "../../tensor/storage.js";
import { sizeOf } from "../../tensor/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import type { Variable } from "../../tensor/variable.js";
import { type InitializerSpec, checkInitializer } from "../initializers.js";

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
function fusedDense(x: Tensor, kernel: Tensor, bias: Tensor | undefined, act: BoundActivation): Tensor {
  const prog = activationProgram(act);
  const programs = densePrograms(prog);
  const backend = backends.active;
  // the epilogue kernel reads buffer ids directly: weights made on another backend move here first
  for (const t of [x, kernel, bias]) if (t) onActiveBackend(t, "dense");
  const epilogue = backend.kernels?.matmulEpilogue;
  const recording = scopeState.noGradDepth === 0 && [x, kernel, bias].some((t) => t?.requiresGrad);
  const [batch, inF] = [x.shape[0]!, x.shape[1]!];
  const units = kernel.shape[1]!;
  let pre: Tensor | undefined; // what the backward pass reads z from: z itself, or x·W when the bias is added on the fly
  let a: Tensor;
  let backward: DenseBackward;
  if (epilogue) {
    backward = programs.backwardOfZ;
    const size = sizeOf([batch, units]);
    const out = backend.alloc(size);
    let z: typeof out | undefined;
    try {
      // a failure here (z out of memory, a kernel error) frees what this call allocated; z is kept only
      // where f' reads it (tanh's and sigmoid's read the output instead)
      z = recording && backward.read.includes(0) ? backend.alloc(size) : undefined;
      epilogue({
        a: x.storage.id, b: kernel.storage.id, out, batch: 1, m: batch, n: units, k: inF, transposeA: false, transposeB: false,
        aBatchStride: 0, bBatchStride: 0, bias: bias?.storage.id, activation: prog.program, scalars: prog.scalars, preActivation: z,
      });
    } catch (e) {
      backend.free(out);
      if (z !== undefined) backend.free(z);
      throw e;
    }
    a = new Tensor(new Storage(backend, out, size), [batch, units]);
    if (!recording) return a;
    if (z !== undefined) pre = new Tensor(new Storage(backend, z, size), [batch, units]);
  } else {
    const product = noGrad(() => matmul(x, kernel));
    const forward = bias ? programs.withBias : programs.withoutBias;
    backward = forward.backward;
    a = noGrad(() => fused(act.plugin.name, forward.program, bias ? [product, bias] : [product], prog.scalars));
    if (!recording || !backward.read.includes(0)) product.dispose();
    else pre = product;
    if (!recording) return a;
  }
  return record(a, "dense", bias ? [x, kernel, bias] : [x, kernel], (g) => {
    const operands = [pre, bias, a, g];
    const dz = backward.identity ? g : fused("dense'", backward.program, backward.read.map((i) => operands[i]!), prog.scalars);
    return [
      x.requiresGrad ? matmul(dz, kernel, { transposeB: true }) : undefined,
      kernel.requiresGrad ? matmul(x, dz, { transposeA: true }) : undefined,
      bias?.requiresGrad ? sum(dz, 0) : undefined,
    ];
  });
}

/**
 * a = f(x·W + b) for x [rows, in], W [in, units] and an optional bias [units]: Dense's forward pass as an op,
 * for layer packages whose layers end in a matrix product (a convolution after im2col). An elementwise
 * activation without trainable weights runs fused, in the backend's matmul epilogue where it has one, with
 * Dense's hand-written backward; any other activation (prelu's alpha in `activationWeights`, an axis
 * activation, one with a backend kernel of its own) runs unfused through `applyActivation`. Differentiable in
 * x, W, b and the activation's weights.
 */
export function denseActivation(
  x: Tensor, kernel: Tensor, bias: Tensor | undefined, activation: BoundActivation,
  activationWeights: Readonly<Record<string, Tensor>> = {},
): Tensor {
  const inF = kernel.shape[0];
  if (x.rank !== 2 || kernel.rank !== 2 || x.shape[1] !== inF) {
    throw new ShapeError(`denseActivation: expected x [rows, in] and a kernel [in, units] with the same in, got ${fmtShape(x.shape)} and ${fmtShape(kernel.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[1])) {
    throw new ShapeError(`denseActivation: the bias must have shape [${kernel.shape[1]}] (one per unit), got ${fmtShape(bias.shape)}`);
  }
  const plugin = activation.plugin;
  // nothing to fuse: the plain product (no epilogue pass over it)
  if (plugin.name === "linear" && !bias) return matmul(x, kernel);
  const fuses = plugin.type === "elementwise" && trainableParams(plugin).length === 0 && plugin.kernels?.[backends.active.name] === undefined;
  if (fuses) return fusedDense(x, kernel, bias, activation);
  const mm = matmul(x, kernel);
  const z = bias ? releaseTemporaries(add(mm, bias), mm) : mm;
  return plugin.name === "linear" ? z : releaseTemporaries(applyActivation(z, activation, activationWeights), z);
}

/** Whether the activation declares that it is the softmax over the features of Dense's 2-D output. */
function isSoftmaxOverFeatures(act: BoundActivation): boolean {
  return act.plugin.type === "axis" && act.plugin.crossEntropyFromLogits?.(act.params, 2) === true;
}

/**
 * dz = g·f'(z) over the operands [pre, bias, a, g] that it reads (`read`, renumbered from 0), so that an
 * unread operand neither has to be kept nor forces a strided layout; `identity` when f' = 1 (dz is g).
 */
interface DenseBackward {
  readonly program: Expr;
  readonly read: readonly number[];
  readonly identity: boolean;
}

/** Dense's programs for one activation: f(z) with z read as pre (+ bias), and the backward for each way z is read. */
interface DensePrograms {
  readonly withBias: { readonly program: Expr; readonly backward: DenseBackward };
  readonly withoutBias: { readonly program: Expr; readonly backward: DenseBackward };
  /** For the epilogue, which stores z itself as pre. */
  readonly backwardOfZ: DenseBackward;
}

function denseBackward(dfdz: Expr): DenseBackward {
  return { ...compactInputs(input(3).mul(dfdz)), identity: dfdz.node.kind === "const" && dfdz.node.value === 1 };
}

// built once per activation program, not on every forward pass and step (deriving is symbolic work)
const densePrograms_ = new WeakMap<ActivationProgram, DensePrograms>();

function densePrograms(prog: ActivationProgram): DensePrograms {
  let p = densePrograms_.get(prog);
  if (!p) {
    const dfdx = prog.dx ?? derive(prog.program, 0);
    const over = (z: Expr) => ({ program: substitute(prog.program, z), backward: denseBackward(substitute(dfdx, z)) });
    p = { withBias: over(input(0).add(input(1))), withoutBias: over(input(0)), backwardOfZ: denseBackward(substitute(dfdx, input(0))) };
    densePrograms_.set(prog, p);
  }
  return p;
}

/** The dense (fully connected) layer: a = f(x·W + b), W of shape [in, units]. */
export const dense = defineLayer<DenseConfig>({
  name: "dense",
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
    // the fused path runs the activation's formula; a hand-written kernel for the active backend is honoured
    // by taking the unfused path, where applyActivation runs it (checked per call: the backend can change)
    const plugin = act.plugin;
    const canFuse = plugin.type === "elementwise" && Object.keys(actWeights).length === 0;
    const fuses = (): boolean => canFuse && plugin.kernels?.[backends.active.name] === undefined;
    const linearPart = (x2: Tensor): Tensor => {
      const mm = matmul(x2, kernel);
      return bias ? releaseTemporaries(add(mm, bias), mm) : mm;
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
          if (fuses()) return fusedDense(x2, kernel, bias, act);
          const z = linearPart(x2);
          return releaseTemporaries(applyActivation(z, act, actWeights), z);
        }),
      // a plain softmax over the features lets cross-entropy be computed from the logits (fused and stable)
      ...(isSoftmaxOverFeatures(act) ? { logits: (x: Tensor) => flat(x, linearPart) } : {}),
    };
  },
});

/** This layer's entry in {@link LayerRegistry} (gathered in ../spec.ts), declared beside its implementation. */
export interface DenseEntry {
  dense: DenseConfig;
}
