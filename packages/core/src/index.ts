/**
 * @neurite/core: tensors, autograd, the Backend / Activation / Layer plugin contracts and their registries,
 * models and training. It imports no backend and no activation family: register them with `use(...)`.
 */
// Importing the core registers nothing: the registries are created with the core's own built-ins (the
// identity activation, the basic layers) as their documented default (see activation/registry.ts and
// layer/registry.ts).

export * from "./errors.js";
export { closestName, didYouMean, editDistance } from "./validation/suggest.js";
export { CORE_VERSION, loadedCoreCopies, type CoreCopy } from "./process-state.js";
// expressions
export * as expr from "./expr/expr.js";
export {
  Expr, type ExprLike, type ExprNode, type UnaryOp, type BinaryOp, UNARY_OPS, BINARY_OPS,
  constant, input, scalar, param, output, unary, binary, lift, topoOrder, children, mapExpr, exprArity, inputsRead,
} from "./expr/expr.js";
export { derive } from "./expr/derive.js";
export { parseFormula, FormulaError, type ParseFormulaOptions } from "./expr/parse.js";
export { compileScalar, exprToJs, UNARY_JS, BINARY_JS, PRIMITIVE_HELPERS, type ScalarFunction, type LeafSource } from "./expr/evaluate.js";
export { erf as erf64, sigmoid as sigmoid64 } from "./expr/math.js";
// backends
export * from "./backend/contract.js";
export * from "./backend/registry.js";
export * from "./backend/layout.js";
export { observeBackend, type BackendObserver } from "./backend/observe.js";
// tensors
export { makeTensor, type NestedArray } from "./tensor/tensor.js";
export { Tensor } from "./ops/methods.js";
export { Variable } from "./tensor/variable.js";
export { MAX_TENSOR_ELEMENTS, broadcastShapes, sizeOf, stridesOf } from "./tensor/shape.js";
export * from "./ops/index.js";
// autograd and memory
export { valueAndGrad, grad, valueAndGradOf, customVjp, type ValueAndGrads, type CustomVjp } from "./autograd/tape.js";
export { noGrad, releaseTemporaries } from "./autograd/record.js";
export { scope, scopeAsync, keep } from "./autograd/scope.js";
// plugins
export { Registry, type PluginIdentity, type RegisterOptions } from "./registry/registry.js";
export { use, type Plugin } from "./registry/use.js";
export * from "./activation/contract.js";
export {
  activations, defineActivation, defineFamily, registerActivations, resolveActivation, resolveParams, bindActivation,
  activationMeta, serializeActivation, deserializeActivation, type ActivationSpecLoose,
} from "./activation/registry.js";
export { applyActivation, activationProgram, scalarActivation, trainableParams, type ScalarActivation, type ActivationProgram } from "./activation/apply.js";
export { linear } from "./activation/linear.js";
export * from "./layer/contract.js";
export * from "./layer/spec.js";
export { layers, defineLayer, defineLayerFamily, ConfigReader } from "./layer/registry.js";
export * from "./layer/builtin/index.js";
// models and training
export * from "./model/sequential.js";
export type { FitOptions, History } from "./model/fit.js";
export * from "./layer/initializers.js";
export * from "./training/losses.js";
export * from "./training/optimizers.js";
export * from "./training/metrics.js";
export * from "./training/callbacks.js";
export * from "./training/diagnostics.js";
export * from "./io/serialize.js";
// profiling
export * from "./profile/index.js";
