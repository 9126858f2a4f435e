import { ConfigReader, ShapeError, type Tensor, defineLayer, div, fromValues, max, mean, reshape, sum } from "@neurite/core";
import { checkBatch, checkImageShape, windowGeometry } from "./conv2d.js";
import { type Padding, checkPatchSize, fmtShape, patchIndices, readPadding, readPair } from "./geometry.js";
import { composed, windowPatches } from "./patches.js";

/** Options of {@link maxPooling2d} and {@link averagePooling2d}. */
export interface Pool2dOptions {
  /** Window [height, width] (a number means square). */
  readonly poolSize: number | readonly [number, number];
  /** Step between windows; defaults to the pool size (non-overlapping windows). */
  readonly strides?: number | readonly [number, number];
  /** Default "valid". */
  readonly padding?: Padding;
}

function poolGeometry(op: string, x: Tensor, options: Pool2dOptions) {
  if (x.rank !== 4) throw new ShapeError(`${op}: the input must be NHWC [batch, height, width, channels], got shape ${fmtShape(x.shape)}; for NCHW data use transpose(x, [0, 2, 3, 1])`);
  const pool = readPair(`${op} poolSize`, options.poolSize);
  const strides = readPair(`${op} strides`, options.strides ?? pool);
  const padding = readPadding(`${op} padding`, options.padding ?? "valid");
  const [batch, height, width, channels] = x.shape as [number, number, number, number];
  return { batch, channels, ...windowGeometry(op, height, width, pool, strides, [1, 1], padding) };
}

/**
 * The maximum of each window of NHWC `x`; padding never wins (it is −∞). The gradient goes to the window's maximum,
 * split evenly between tied maxima (PyTorch's max_pool2d sends it to the first one; the two differ only on ties).
 * The windows come from the backend's im2col kernel (col2im in the backward pass) where it has one, else from a
 * gather; core's `max` reduces them either way, so both paths give the same values and gradients.
 */
export function maxPooling2d(x: Tensor, options: Pool2dOptions): Tensor {
  const { batch, channels, rows, cols } = poolGeometry("maxPool2d", x, options);
  checkPatchSize("maxPool2d", rows, cols, batch, channels);
  return composed((track) => {
    const patches = windowPatches(x, rows, cols, track, -Infinity, "maxPool2d");
    return reshape(track(max(patches, 2)), [batch, rows.out, cols.out, channels]);
  });
}

/**
 * The mean of each window of NHWC `x`. With padding "same", only the taps inside the image count (TensorFlow's
 * average pooling; PyTorch's `count_include_pad=False`): the window's sum (padding reads 0) over its count of
 * taps inside the image. The windows come from the backend's im2col kernel where it has one, else from a gather.
 */
export function averagePooling2d(x: Tensor, options: Pool2dOptions): Tensor {
  const { batch, channels, rows, cols } = poolGeometry("avgPool2d", x, options);
  checkPatchSize("avgPool2d", rows, cols, batch, channels);
  const { indices, padded } = patchIndices(rows, cols);
  return composed((track) => {
    const patches = windowPatches(x, rows, cols, track, 0, "avgPool2d");
    if (!padded) return reshape(track(mean(patches, 2)), [batch, rows.out, cols.out, channels]);
    // taps inside the image per window: the divisor of each output position
    const taps = rows.kernel * cols.kernel;
    const counts = new Float32Array(rows.out * cols.out);
    const outside = rows.size * cols.size;
    for (let p = 0; p < counts.length; p++) {
      let n = 0;
      for (let t = 0; t < taps; t++) if (indices[p * taps + t] !== outside) n++;
      counts[p] = n;
    }
    const total = track(sum(patches, 2));
    const m = track(div(total, track(fromValues(counts, [counts.length, 1]))));
    return reshape(m, [batch, rows.out, cols.out, channels]);
  });
}

/** The mean over height and width of NHWC `x`: [batch, channels]. */
export function globalAveragePool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError(`globalAveragePooling2d: the input must be NHWC [batch, height, width, channels], got shape ${fmtShape(x.shape)}`);
  return mean(x, [1, 2]);
}

/** The pooling layers' config. */
export interface Pool2dConfig {
  readonly poolSize: readonly [number, number];
  /** Defaults to poolSize. */
  readonly strides: readonly [number, number];
  /** Default "valid". */
  readonly padding: Padding;
  readonly inputShape?: readonly number[];
}

/** The pooling config as a user writes it: sizes as a number or [height, width]. */
export interface Pool2dConfigInput extends Omit<Pool2dConfig, "poolSize" | "strides"> {
  readonly poolSize: number | readonly [number, number];
  readonly strides: number | readonly [number, number];
}

function poolLayer(name: "maxPool2d" | "avgPool2d", description: string, op: (x: Tensor, o: Pool2dOptions) => Tensor) {
  return defineLayer<Pool2dConfig>({
    name, description,
    configure(config) {
      const r = new ConfigReader(name, config, ["poolSize", "strides", "padding", "inputShape"]);
      const inputShape = r.shape("inputShape");
      const poolSize = readPair(`layer ${name}: poolSize`, r.raw("poolSize") ?? 2);
      return {
        poolSize,
        strides: readPair(`layer ${name}: strides`, r.raw("strides") ?? poolSize),
        padding: readPadding(`layer ${name}: padding`, r.raw("padding") ?? "valid"),
        ...(inputShape ? { inputShape } : {}),
      };
    },
    build(config, inputShape) {
      const [height, width, channels] = checkImageShape(name, inputShape);
      const { rows, cols } = windowGeometry(`layer ${name}`, height, width, config.poolSize, config.strides, [1, 1], config.padding);
      checkPatchSize(`layer ${name}`, rows, cols, 1, channels);
      return {
        outputShape: [rows.out, cols.out, channels],
        call: (x) => {
          checkBatch(name, x, inputShape);
          return op(x, config);
        },
      };
    },
  });
}

/** Max pooling over NHWC windows (default 2×2, stride = poolSize, "valid"). */
export const maxPool2d = poolLayer("maxPool2d", "the maximum of each window of NHWC images", maxPooling2d);

/** Average pooling over NHWC windows (default 2×2, stride = poolSize, "valid"); padding is not counted. */
export const avgPool2d = poolLayer("avgPool2d", "the mean of each window of NHWC images (padding not counted)", averagePooling2d);

export interface GlobalPoolConfig {
  readonly inputShape?: readonly number[];
}

/** The mean over height and width: [batch, height, width, channels] → [batch, channels]. */
export const globalAveragePooling2d = defineLayer<GlobalPoolConfig>({
  name: "globalAveragePooling2d",
  description: "the mean over height and width of NHWC images: [batch, channels]",
  configure(config) {
    const r = new ConfigReader("globalAveragePooling2d", config, ["inputShape"]);
    const inputShape = r.shape("inputShape");
    return inputShape ? { inputShape } : {};
  },
  build(_config, inputShape) {
    const [, , channels] = checkImageShape("globalAveragePooling2d", inputShape);
    return {
      outputShape: [channels],
      call: (x) => {
        checkBatch("globalAveragePooling2d", x, inputShape);
        return globalAveragePool(x);
      },
    };
  },
});
