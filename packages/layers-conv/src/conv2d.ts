import {
  type BoundActivation, ConfigReader, type InitializerSpec, ShapeError, type Tensor, type Variable, add, applyActivation,
  checkInitializer, defineLayer, denseActivation, getBackend, matmul, reshape, resolveActivation, trainableParams, transpose,
} from "@neurite/core";
import { type AxisGeometry, type Padding, axisGeometry, checkPatchSize, fmtShape, readPadding, readPair } from "./geometry.js";
import { type Track, composed, extractPatches, kernelConvolution, kernelPatches, patchKernels } from "./patches.js";

/** Options of {@link convolution2d}. */
export interface Convolution2dOptions {
  /** Step between windows, per spatial axis; default 1. */
  readonly strides?: number | readonly [number, number];
  /** Default "valid". */
  readonly padding?: Padding;
  /** Spacing between kernel taps, per spatial axis; default 1. */
  readonly dilation?: number | readonly [number, number];
  /** Channel groups; default 1. groups = channels is a depthwise convolution. */
  readonly groups?: number;
  /** Added per output channel, shape [filters]. */
  readonly bias?: Tensor;
  /** Applied to x ⊛ W + b, with the weights of its trainable parameters. */
  readonly activation?: BoundActivation;
  readonly activationWeights?: Readonly<Record<string, Tensor>>;
}

/** The spatial geometry of a convolution or pooling window over an NHWC input. */
export interface WindowGeometry {
  readonly rows: AxisGeometry;
  readonly cols: AxisGeometry;
}

export function windowGeometry(
  what: string, height: number, width: number, kernel: readonly [number, number], strides: readonly [number, number],
  dilation: readonly [number, number], padding: Padding,
): WindowGeometry {
  return {
    rows: axisGeometry(`${what} (height)`, height, kernel[0], strides[0], dilation[0], padding),
    cols: axisGeometry(`${what} (width)`, width, kernel[1], strides[1], dilation[1], padding),
  };
}

/**
 * A 2-D convolution (cross-correlation, like every framework) of NHWC `x` [batch, height, width, channels] with
 * `kernel` [kH, kW, channels / groups, filters], giving [batch, outH, outW, filters]. Output channel f reads the
 * input channels of group ⌊f / (filters / groups)⌋, as PyTorch's groups do.
 *
 * Where the active backend has the `im2col` and `col2im` kernels, im2col is one kernel call (col2im its
 * backward) and, without groups, the product, bias and activation are core's `denseActivation` (the matmul
 * epilogue where the backend has one): the kernel's gradient is patchesᵀ·dY and the input's col2im(dY·Wᵀ). A
 * bare convolution (no bias, no activation) is one `im2colMatmul` where the backend has it.
 * Elsewhere it is composed from core ops — im2col by one gather, then one (batched, for groups) matmul — so every
 * backend runs it. Both paths give the same values and gradients within float32 rounding.
 */
export function convolution2d(x: Tensor, kernel: Tensor, options: Convolution2dOptions = {}): Tensor {
  const strides = readPair("conv2d strides", options.strides ?? 1);
  const dilation = readPair("conv2d dilation", options.dilation ?? 1);
  const padding = readPadding("conv2d padding", options.padding ?? "valid");
  const groups = options.groups ?? 1;
  if (x.rank !== 4) throw new ShapeError(`conv2d: the input must be NHWC [batch, height, width, channels], got shape ${fmtShape(x.shape)}; for NCHW data use transpose(x, [0, 2, 3, 1])`);
  if (kernel.rank !== 4) throw new ShapeError(`conv2d: the kernel must be [kernelHeight, kernelWidth, channels / groups, filters], got shape ${fmtShape(kernel.shape)}`);
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  const [kh, kw, groupChannels, filters] = kernel.shape as [number, number, number, number];
  if (!Number.isSafeInteger(groups) || groups < 1 || channels % groups !== 0 || filters % groups !== 0) {
    throw new ShapeError(`conv2d: groups must be a positive integer dividing both the channels (${channels}) and the filters (${filters}), got ${groups}`);
  }
  if (groupChannels * groups !== channels) {
    throw new ShapeError(`conv2d: the kernel ${fmtShape(kernel.shape)} has ${groupChannels} input channels per group, but the input ${fmtShape(x.shape)} has ${channels} channels in ${groups} group(s) (${channels / groups} each)`);
  }
  if (options.bias && (options.bias.rank !== 1 || options.bias.shape[0] !== filters)) {
    throw new ShapeError(`conv2d: the bias must have shape [${filters}] (one per filter), got ${fmtShape(options.bias.shape)}`);
  }
  const { rows, cols } = windowGeometry("conv2d", height, width, [kh, kw], strides, dilation, padding);
  const positions = batch * rows.out * cols.out;
  const taps = kh * kw;
  // one batched matmul over the groups: [g, positions, taps·Cg] · [g, taps·Cg, filters / g], as [positions, filters]
  const groupedProduct = (patches: Tensor, track: Track): Tensor => {
    const perGroup = filters / groups;
    const grouped = track(transpose(track(reshape(patches, [positions, taps, groups, groupChannels])), [2, 0, 1, 3]));
    const lhs = track(reshape(grouped, [groups, positions, taps * groupChannels]));
    const rhs = track(transpose(track(reshape(kernel, [taps * groupChannels, groups, perGroup])), [1, 0, 2]));
    return track(transpose(track(matmul(lhs, rhs)), [1, 0, 2]));
  };
  // the product as NHWC, then the bias and the activation as separate fused passes
  const finish = (product: Tensor, track: Track): Tensor => {
    let y = reshape(product, [batch, rows.out, cols.out, filters]);
    if (options.bias) y = add(track(y), options.bias);
    if (options.activation && options.activation.plugin.name !== "linear") {
      y = applyActivation(track(y), options.activation, options.activationWeights ?? {});
    }
    return y;
  };
  const kernels = patchKernels();
  if (kernels) {
    return composed((track) => {
      const { im2colMatmul } = getBackend().kernels ?? {};
      if (groups === 1 && im2colMatmul && !options.bias && (!options.activation || options.activation.plugin.name === "linear")) {
        // the bare product (no epilogue to fuse): patches extracted block by block into cache, never materialised
        const flatKernel = track(reshape(kernel, [taps * channels, filters]));
        return finish(track(kernelConvolution(x, flatKernel, rows, cols, { ...kernels, im2colMatmul })), track);
      }
      const patches = track(kernelPatches(x, rows, cols, kernels));
      if (groups !== 1) return finish(groupedProduct(patches, track), track);
      // patches · W with the bias and activation in the matmul's epilogue where the backend has one
      const flatKernel = track(reshape(kernel, [taps * channels, filters]));
      const activation = options.activation ?? resolveActivation("linear");
      const y = track(denseActivation(patches, flatKernel, options.bias, activation, options.activationWeights ?? {}));
      return reshape(y, [batch, rows.out, cols.out, filters]);
    });
  }
  return composed((track) => {
    const patches = extractPatches(x, rows, cols, track);
    if (groups !== 1) return finish(groupedProduct(patches, track), track);
    const lhs = track(reshape(patches, [positions, taps * channels]));
    return finish(track(matmul(lhs, track(reshape(kernel, [taps * channels, filters])))), track);
  });
}

/** The conv2d layer's config, every field written out. */
export interface Conv2dConfig {
  /** Output channels. */
  readonly filters: number;
  /** [height, width] of the kernel (a number means square). */
  readonly kernelSize: readonly [number, number];
  /** Default [1, 1]. */
  readonly strides: readonly [number, number];
  /** Default "valid". */
  readonly padding: Padding;
  /** Default [1, 1]. */
  readonly dilation: readonly [number, number];
  /** Default 1; the channel count for a depthwise convolution. */
  readonly groups: number;
  /** f in a = f(x ⊛ W + b); default "linear" (none). Any registered activation. */
  readonly activation: BoundActivation;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
  /** [height, width, channels], for a first layer. */
  readonly inputShape?: readonly number[];
}

/** The config as a user writes it: sizes as a number or [height, width]. */
export interface Conv2dConfigInput extends Omit<Conv2dConfig, "kernelSize" | "strides" | "dilation"> {
  readonly kernelSize: number | readonly [number, number];
  readonly strides: number | readonly [number, number];
  readonly dilation: number | readonly [number, number];
}

/** Checks an NHWC sample shape [height, width, channels] for `layer`. */
export function checkImageShape(layer: string, inputShape: readonly number[]): [number, number, number] {
  if (inputShape.length !== 3) {
    throw new ShapeError(`layer ${layer}: expects NHWC images, samples of shape [height, width, channels], got ${fmtShape(inputShape)}; for NCHW data use transpose(x, [0, 2, 3, 1])`);
  }
  return inputShape as [number, number, number];
}

/** Checks that a batch matches the shape the layer was built for. */
export function checkBatch(layer: string, x: Tensor, inputShape: readonly number[]): void {
  if (x.rank !== 4 || x.shape.slice(1).some((d, i) => d !== inputShape[i])) {
    throw new ShapeError(`layer ${layer}: expected a batch of shape [batch, ${inputShape.join(", ")}] (NHWC), got ${fmtShape(x.shape)}`);
  }
}

/**
 * 2-D convolution layer, NHWC: a = f(x ⊛ W + b) with W of shape [kH, kW, channels / groups, filters] (Keras's
 * layout) and TensorFlow's "same" padding.
 */
export const conv2d = defineLayer<Conv2dConfig>({
  name: "conv2d",
  description: "2-D convolution over NHWC images: a = f(x ⊛ W + b), W of shape [kH, kW, channels / groups, filters]",
  configure(config) {
    const r = new ConfigReader("conv2d", config, [
      "filters", "kernelSize", "strides", "padding", "dilation", "groups", "activation", "useBias", "kernelInitializer", "biasInitializer", "inputShape",
    ]);
    const inputShape = r.shape("inputShape");
    const groups = r.int("groups", 1);
    const filters = r.int("filters");
    if (filters % groups !== 0) throw new ShapeError(`layer conv2d: filters (${filters}) must be a multiple of groups (${groups})`);
    return {
      filters,
      kernelSize: readPair("layer conv2d: kernelSize", r.raw("kernelSize")),
      strides: readPair("layer conv2d: strides", r.raw("strides") ?? 1),
      padding: readPadding("layer conv2d: padding", r.raw("padding") ?? "valid"),
      dilation: readPair("layer conv2d: dilation", r.raw("dilation") ?? 1),
      groups,
      activation: resolveActivation((r.raw("activation") as never) ?? "linear"),
      useBias: r.bool("useBias", true),
      kernelInitializer: checkInitializer(r.raw("kernelInitializer") ?? "glorotUniform", "conv2d kernelInitializer"),
      biasInitializer: checkInitializer(r.raw("biasInitializer") ?? "zeros", "conv2d biasInitializer"),
      ...(inputShape ? { inputShape } : {}),
    };
  },
  build(config, inputShape, ctx) {
    const [height, width, channels] = checkImageShape("conv2d", inputShape);
    if (channels % config.groups !== 0) {
      throw new ShapeError(`layer conv2d: groups (${config.groups}) must divide the input channels (${channels}) of input shape ${fmtShape(inputShape)}`);
    }
    // validates the window against the input before any weight exists
    const { rows, cols } = windowGeometry("layer conv2d", height, width, config.kernelSize, config.strides, config.dilation, config.padding);
    checkPatchSize("layer conv2d", rows, cols, 1, channels);
    const kernel = ctx.addWeight("kernel", [...config.kernelSize, channels / config.groups, config.filters], config.kernelInitializer);
    const bias = config.useBias ? ctx.addWeight("bias", [config.filters], config.biasInitializer) : undefined;
    const act = config.activation;
    const activationWeights: Record<string, Variable> = {};
    for (const k of trainableParams(act.plugin)) {
      const perChannel = act.plugin.params[k]!.perChannel;
      activationWeights[k] = ctx.addWeight(`activation.${k}`, perChannel ? [config.filters] : [1], { name: "constant", value: act.params[k] as number });
    }
    return {
      outputShape: [rows.out, cols.out, config.filters],
      call: (x) => {
        checkBatch("conv2d", x, inputShape);
        return convolution2d(x, kernel, {
          strides: config.strides, padding: config.padding, dilation: config.dilation, groups: config.groups,
          ...(bias ? { bias } : {}), activation: act, activationWeights,
        });
      },
    };
  },
});
