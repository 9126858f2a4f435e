import type { Suite } from "./protocol.js";

/** The suites that `--browser` runs: no copy ceilings of Node's process, no ONNX Runtime. */
export const BROWSER_SUITES: readonly Suite[] = ["activation-forward", "activation-backward", "matmul", "train", "predict"];
