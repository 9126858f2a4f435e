/** What every training test registers: the CPU backend and the four activation families. */
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { cpuBackend } from "@neurite/backend-cpu";
import { Random, type Sequential, type Tensor, setBackend, tensor, use } from "@neurite/core";

export async function setupCpu(): Promise<void> {
  use(cpuBackend, reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
  await setBackend("cpu");
}

/**
 * Two interleaved spirals, `perClass` points each, generated from a seeded core Random: class 0 at angle θ,
 * class 1 rotated by π, radius growing with θ over `turns` turns, plus Gaussian noise.
 */
export function twoSpirals(perClass: number, seed: number, turns = 1.75, noise = 0.02): { x: Tensor; labels: Tensor; n: number } {
  const rng = new Random(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < perClass; i++) {
    const t = (i + 0.5) / perClass;
    const theta = t * turns * 2 * Math.PI;
    const r = 0.1 + 0.9 * t;
    for (const cls of [0, 1]) {
      const phase = theta + cls * Math.PI;
      xs.push(r * Math.cos(phase) + noise * rng.normal(), r * Math.sin(phase) + noise * rng.normal());
      ys.push(cls);
    }
  }
  return { x: tensor(xs, [ys.length, 2]), labels: tensor(ys, [ys.length]), n: ys.length };
}

/** Fraction of rows whose argmax (or, with one output, p > 0.5) matches the label. */
export function accuracyOf(model: Sequential, x: Tensor, labels: readonly number[]): number {
  const p = model.predict(x);
  const v = p.dataSync();
  const classes = p.shape[1]!;
  let right = 0;
  labels.forEach((label, r) => {
    let guess = 0;
    if (classes === 1) guess = v[r]! > 0.5 ? 1 : 0;
    else for (let c = 1; c < classes; c++) if (v[r * classes + c]! > v[r * classes + guess]!) guess = c;
    if (guess === label) right++;
  });
  p.dispose();
  return right / labels.length;
}
