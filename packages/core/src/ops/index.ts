export * from "./create.js";
export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./shape-ops.js";
export * from "./matmul.js";
export { fused, type FusedOptions } from "./fused.js";
export { onActiveBackend, produce } from "./kernel.js";
export { Random } from "./random.js";
