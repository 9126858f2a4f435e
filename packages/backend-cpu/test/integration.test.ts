import { argmax, backendKernels, getBackend, matmul, setBackend, sum, tensor, transpose, use } from "@neurite/core";
import { beforeAll, describe, expect, it } from "vitest";
import { cpuBackend } from "../src/index.js";

describe("with @neurite/core", () => {
  beforeAll(async () => {
    use(cpuBackend);
    await setBackend("cpu");
  });

  it("registers as the cpu backend with every kernel", () => {
    expect(getBackend().name).toBe("cpu");
    expect(backendKernels()).toEqual({
      required: ["elementwise", "reduce", "matmul", "gather", "scatterAdd"],
      optional: ["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward", "matmulEpilogue", "adam", "copy", "im2col", "col2im", "im2colMatmul"],
    });
  });

  it("runs tensor ops through the kernels", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([[7, 8], [9, 10], [11, 12]]);
    expect(matmul(a, b).arraySync()).toEqual([[58, 64], [139, 154]]);
    expect(a.add(tensor([10, 20, 30])).arraySync()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(transpose(a).arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(sum(a, 1).arraySync()).toEqual([6, 15]);
    expect(argmax(tensor([[1, 9, 9], [NaN, 0, 1]]), 1).arraySync()).toEqual([1, 0]);
  });
});
