/**
 * `@neurite/onnx`: export Neurite models to ONNX, to run them on ONNX Runtime (Node, Python, C++, GPUs,
 * browsers), and import ONNX MLPs as trainable Sequential models.
 *
 * ```ts
 * import { exportOnnx, importOnnx } from "@neurite/onnx";
 * const bytes = exportOnnx(model);            // an ONNX ModelProto, opset 17
 * const again = importOnnx(bytes);            // a Sequential that predicts like model
 * ```
 * @packageDocumentation
 */
export { OnnxError } from "./errors.js";
export {
  exportOnnx, DEFAULT_OPSET, MIN_EXPORT_OPSET, MAX_EXPORT_OPSET, METADATA_KEYS,
  type ExportOnnxOptions, type ExportedActivationRecord, type ExportedLayerRecord,
  LAYER_EXPORTS, type LayerExporter, type LayerExportContext, type LayerExportResult, type LayerLayout, type ChannelLayout,
} from "./export.js";
export { CONV_LAYER_EXPORTS } from "./conv.js";
export { EXACT_OPERATORS, type ExactOperator } from "./exact.js";
export { UNARY_LOWERING, BINARY_LOWERING } from "./lower.js";
export { importOnnx, decodeOnnx, graphOperators, SUPPORTED_IMPORT_OPS, MIN_IMPORT_OPSET, MAX_IMPORT_OPSET, type ImportOnnxOptions } from "./import.js";
export { onnxFormula, onnxActivations, formulaText } from "./formula-activation.js";
