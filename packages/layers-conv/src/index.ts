/**
 * `@neurite/layers-conv`: 2-D convolution, max / average / global average pooling and batch normalization over
 * NHWC images as a layer plugin family, composed from core ops so that every backend runs them and autograd derives
 * their gradients.
 *
 * ```ts
 * import { use } from "@neurite/core";
 * import { convLayers } from "@neurite/layers-conv";
 * use(convLayers);
 * ```
 * @packageDocumentation
 */
import { type LayerFamily, defineLayerFamily } from "@neurite/core";
import { type BatchNormalizationConfig, batchNormalization } from "./batch-normalization.js";
import { type Conv2dConfigInput, conv2d } from "./conv2d.js";
import { type GlobalPoolConfig, type Pool2dConfigInput, avgPool2d, globalAveragePooling2d, maxPool2d } from "./pooling.js";
import { PACKAGE, VERSION } from "./identity.js";

declare module "@neurite/core" {
  interface LayerRegistry {
    conv2d: Conv2dConfigInput;
    maxPool2d: Pool2dConfigInput;
    avgPool2d: Pool2dConfigInput;
    globalAveragePooling2d: GlobalPoolConfig;
    batchNormalization: BatchNormalizationConfig;
  }
}

export { conv2d, convolution2d, type Conv2dConfig, type Conv2dConfigInput, type Convolution2dOptions } from "./conv2d.js";
export {
  maxPool2d, avgPool2d, globalAveragePooling2d, maxPooling2d, averagePooling2d, globalAveragePool,
  type Pool2dOptions, type Pool2dConfig, type Pool2dConfigInput, type GlobalPoolConfig,
} from "./pooling.js";
export { batchNormalization, batchNorm, type BatchNormParams, type BatchNormalizationConfig } from "./batch-normalization.js";
export type { Padding } from "./geometry.js";
export { PACKAGE, VERSION };

/** Every layer of this package; register with `use(convLayers)`. */
export const convLayers: LayerFamily = defineLayerFamily({
  name: "conv-layers",
  package: PACKAGE,
  version: VERSION,
  layers: [conv2d, maxPool2d, avgPool2d, globalAveragePooling2d, batchNormalization],
});
