/** Conversions between backend tensors and the float64 reference arrays. */
import { type Tensor, tensor } from "@neurite/core";
import { type Nd, nd } from "./reference.js";

/** A float32 tensor holding the reference array's values. */
export function fromNd(x: Nd): Tensor {
  return tensor(Float32Array.from(x.data), x.shape);
}

/** A float64 reference array holding the tensor's values. */
export function toNd(t: Tensor): Nd {
  return nd(t.shape, t.dataSync());
}
