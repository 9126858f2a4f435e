import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { adam } from "@neurite/core";
import { exportOnnx } from "@neurite/onnx";
import { irisSplit } from "./datasets/index.js";
import { type BackendName, setup } from "./setup.js";
import { mlp, toTensors } from "./train.js";

/**
 * `export --out model.onnx`: trains the tour's Iris classifier (part 6: 4 → 16 relu → 3 softmax) and writes it as
 * an ONNX file that ONNX Runtime serves (Node, Python, C++, browsers).
 */
export async function runExport(options: { out: string; seed: number; backend: BackendName; opset: number }): Promise<void> {
  await setup(options.backend);
  const split = irisSplit(options.seed, 10);
  const [x, y] = toTensors(split.train, "sparse");
  const [tx, ty] = toTensors(split.test, "sparse");
  const model = mlp(4, [16], "relu", split.train.classes.length, options.seed);
  model.compile({ optimizer: adam({ lr: 0.01 }), loss: "sparseCategoricalCrossEntropy", metrics: ["accuracy"] });
  await model.fit(x, y, { epochs: 60, batchSize: 16 });
  const accuracy = model.evaluate(tx, ty).accuracy ?? NaN;
  const bytes = exportOnnx(model, { opset: options.opset });
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  for (const t of [x, y, tx, ty]) t.dispose();
  model.dispose();
  console.log(`Iris classifier (4 → 16 relu → 3 softmax), held-out accuracy ${(100 * accuracy).toFixed(1)} %`);
  console.log(`wrote ${out} (${bytes.byteLength} bytes, ONNX opset ${options.opset}; input "input" [batch, 4], output "output" [batch, 3])`);
  console.log(`serve it: const s = await ort.InferenceSession.create("${options.out}"); await s.run({ input: new ort.Tensor("float32", x, [n, 4]) })`);
}
