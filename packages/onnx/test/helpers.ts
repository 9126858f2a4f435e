import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { type Sequential, fromValues, setBackend, use } from "@neurite/core";
import { TestRng } from "@neurite/test-support";
import * as ort from "onnxruntime-node";
import { beforeAll, describe } from "vitest";

use(cpuBackend, wasmBackend);

/** `describe.each` over cpu and wasm, with that backend active. */
export function forEachBackend(title: string, body: (backend: string) => void): void {
  describe.each(["cpu", "wasm"])(`%s backend: ${title}`, (name) => {
    beforeAll(async () => {
      await setBackend(name);
    });
    body(name);
  });
}

/** Uniform draws in [0, 1) from the shared seeded test-input generator, so every run draws the same inputs. */
export function random(seed: number): () => number {
  const rng = new TestRng(seed);
  return () => rng.next();
}

/**
 * `count` seeded inputs: a third in [−3, 3], a third in the tails [−50, 50], a third near 0 (down to 1e-7, where
 * expm1 and log1p lose accuracy in their textbook forms), then special values: NaN in must give NaN out, and ±∞ what
 * Neurite gives.
 */
export function seededInputs(count: number, seed: number): Float32Array {
  const r = random(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    const s = r() * 2 - 1;
    out[i] = kind === 0 ? 3 * s : kind === 1 ? 50 * s : s * 10 ** -(1 + 6 * r());
  }
  const specials = [0, -0, 1, -1, 3, -3, 6, 20, -20, 50, -50, 1e-7, -1e-7, NaN, Infinity, -Infinity];
  specials.forEach((v, i) => { if (i < count) out[count - 1 - i] = v; });
  return out;
}

/** Runs a model file with ONNX Runtime on one input; `threads` intra-op threads (default 1). */
export async function runOrt(bytes: Uint8Array, x: Float32Array, shape: readonly number[], threads = 1): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  try {
    const result = await session.run({ input: new ort.Tensor("float32", x, [...shape]) });
    return result.output!.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Neurite's predict on the active backend, as a Float32Array. */
export function predictValues(model: Sequential, x: Float32Array, shape: readonly number[]): Float32Array {
  const t = fromValues(x, shape);
  const y = model.predict(t);
  const values = y.dataSync();
  t.dispose();
  y.dispose();
  return values;
}

/** Indices where got and want differ beyond abs + rel·|want| (NaN must meet NaN), described for a message. */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, x?: ArrayLike<number>, rel = 1e-5, abs = 1e-6): string[] {
  const bad: string[] = [];
  if (got.length !== want.length) return [`length ${got.length} vs ${want.length}`];
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : g === w || Math.abs(g - w) <= abs + rel * Math.abs(w);
    if (!ok && bad.length < 5) bad.push(`[${i}]${x ? ` x=${x[i]}` : ""}: got ${g}, want ${w}`);
  }
  return bad;
}
