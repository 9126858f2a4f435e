import { cpuBackend } from "@neurite/backend-cpu";
import { setBackend, use } from "@neurite/core";
import { expect, it } from "vitest";
import { OnnxError, importOnnx } from "../src/index.js";
import { encodeModel } from "../src/proto.js";

use(cpuBackend);

it("importing a Conv graph without @neurite/layers-conv registered names the package and use(convLayers)", async () => {
  await setBackend("cpu");
  const dims = (d: (number | string)[]) => ({ tensor_type: { elem_type: 1, shape: { dim: d.map((v) => (typeof v === "number" ? { dim_value: v } : { dim_param: v })) } } });
  const bytes = encodeModel({
    ir_version: 8, opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "nhwc",
      node: [
        { op_type: "Transpose", input: ["input"], output: ["t"], attribute: [{ name: "perm", type: 7, ints: [0, 3, 1, 2] }] },
        { op_type: "Conv", input: ["t", "w"], output: ["c"], attribute: [{ name: "kernel_shape", type: 7, ints: [1, 1] }] },
        { op_type: "Transpose", input: ["c"], output: ["output"], attribute: [{ name: "perm", type: 7, ints: [0, 2, 3, 1] }] },
      ],
      initializer: [{ name: "w", data_type: 1, dims: [1, 1, 1, 1], float_data: [2] }],
      input: [{ name: "input", type: dims(["N", 4, 4, 1]) }],
      output: [{ name: "output", type: dims(["N", 4, 4, 1]) }],
    },
  });
  expect(() => importOnnx(bytes)).toThrow(OnnxError);
  expect(() => importOnnx(bytes)).toThrow(/conv2d.*@neurite\/layers-conv/);
});
