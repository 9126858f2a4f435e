// Run by test/fma.test.ts in a fresh node, with and without --experimental-wasm-relaxed-simd (relaxed SIMD
// is decided per process, by V8's flags). Prints the report of fma-cases.mjs as JSON.
import * as wasm from "../dist/index.js";
import { fmaReport } from "./fma-cases.mjs";

const report = await fmaReport(wasm, { plain: new URL("../dist/kernels.wasm", import.meta.url), fused: new URL("../dist/kernels-fma.wasm", import.meta.url) });
console.log(JSON.stringify(report));
