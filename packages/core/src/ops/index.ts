export * from "./create.js";
export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./shape-ops.js";
export * from "./matmul.js";
export { fused, onActiveBackend, type FusedOptions } from "./fused.js";
export { Random } from "./random.js";
