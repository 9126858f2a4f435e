/**
 * Installs the tensor's fluent op methods (`x.add(y)`, `x.sum()`, …) on its prototype. They are declared on
 * the `Tensor` interface in tensor/tensor.ts; the installation lives here, beside the ops, so the tensor
 * module imports no op and the dependencies run one way (ops → tensor).
 */
import { Tensor } from "../tensor/tensor.js";
import { abs, add, clip, clone, div, equal, exp, greater, less, log, log1p, maximum, minimum, mul, neg, pow, sigmoid, sqrt, square, sub, tanh } from "./elementwise.js";
import { matmul } from "./matmul.js";
import { argmax, logSumExp, max, mean, min, sum } from "./reduce.js";
import { gather, reshape, slice, transpose } from "./shape-ops.js";

type MethodName = {
  [K in keyof Tensor]: Tensor[K] extends (...args: never[]) => Tensor ? K : never;
}[keyof Tensor];

/** Each method forwards to the function of the same name with the tensor as its first argument. */
const methods: { [K in MethodName]: (this: Tensor, ...args: Parameters<Tensor[K]>) => Tensor } = {
  add(b) { return add(this, b); },
  sub(b) { return sub(this, b); },
  mul(b) { return mul(this, b); },
  div(b) { return div(this, b); },
  pow(b) { return pow(this, b); },
  maximum(b) { return maximum(this, b); },
  minimum(b) { return minimum(this, b); },
  neg() { return neg(this); },
  abs() { return abs(this); },
  exp() { return exp(this); },
  log() { return log(this); },
  log1p() { return log1p(this); },
  sqrt() { return sqrt(this); },
  square() { return square(this); },
  tanh() { return tanh(this); },
  sigmoid() { return sigmoid(this); },
  less(b) { return less(this, b); },
  greater(b) { return greater(this, b); },
  equal(b) { return equal(this, b); },
  clip(lo, hi) { return clip(this, lo, hi); },
  sum(axes, keepDims = false) { return sum(this, axes, keepDims); },
  mean(axes, keepDims = false) { return mean(this, axes, keepDims); },
  max(axes, keepDims = false) { return max(this, axes, keepDims); },
  min(axes, keepDims = false) { return min(this, axes, keepDims); },
  argmax(axis = -1) { return argmax(this, axis); },
  logSumExp(axes, keepDims = false) { return logSumExp(this, axes, keepDims); },
  matmul(b, options) { return matmul(this, b, options); },
  reshape(shape) { return reshape(this, shape); },
  transpose(perm) { return transpose(this, perm); },
  slice(start, end) { return slice(this, start, end); },
  gather(indices, axis = 0) { return gather(this, indices, axis); },
  clone() { return clone(this); },
};

// on the prototype as a class body would put them: non-enumerable, writable
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

/**
 * The public entry re-exports `Tensor` from here, not from tensor/tensor.ts: whoever can name the class has
 * loaded its methods (a bare side-effect import would be dropped, the package being side-effect free).
 */
export { Tensor };
