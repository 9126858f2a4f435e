import { record } from "../autograd/record.js";
import { ShapeError, fmtShape } from "../errors.js";
import { backends } from "../backend/instances.js";
import { type MatmulOptions, Tensor } from "../tensor/tensor.js";
import { onActiveBackend, produce } from "./kernel.js";
import { sum } from "./reduce.js";

export type { MatmulOptions } from "../tensor/tensor.js";

/** @internal the batch/m/n/k geometry of a product, with a clear error for shapes that do not fit. */
export function matmulGeometry(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean, op = "matmul") {
  const describe = (): string =>
    `${op}: cannot multiply ${fmtShape(a.shape)}${transposeA ? "ᵀ" : ""} by ${fmtShape(b.shape)}${transposeB ? "ᵀ" : ""}`;
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new ShapeError(`${describe()}: both operands must be 2-D matrices or 3-D batches of matrices`);
  }
  const [am, ak] = transposeA ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [bk, bn] = transposeB ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!] : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (ak !== bk) throw new ShapeError(`${describe()}: inner sizes ${ak} and ${bk} differ`);
  const aBatch = a.rank === 3 ? a.shape[0]! : 1;
  const bBatch = b.rank === 3 ? b.shape[0]! : 1;
  if (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1) throw new ShapeError(`${describe()}: batch sizes ${aBatch} and ${bBatch} differ`);
  // NumPy broadcasting: a batch of 1 takes the other's size, including 0 (max() made an empty batch 1)
  const batch = aBatch === 1 ? bBatch : aBatch;
  const outShape = a.rank === 3 || b.rank === 3 ? [batch, am, bn] : [am, bn];
  return {
    batch, m: am, n: bn, k: ak, outShape,
    aBatchStride: aBatch === 1 ? 0 : am * ak,
    bBatchStride: bBatch === 1 ? 0 : ak * bn,
  };
}

/** Sums a batched gradient over the batch when the operand was a single broadcast matrix (2-D, or a 3-D batch of 1). */
function unbatch(g: Tensor, like: Tensor): Tensor {
  if (g.rank !== like.rank) return sum(g, 0);
  return like.rank === 3 && like.shape[0] === 1 && g.shape[0] !== 1 ? sum(g, 0, true) : g;
}

/**
 * Matrix product of 2-D matrices or 3-D batches (a batch of 1, or a 2-D operand, broadcasts), with
 * optional transposes of either operand.
 *
 * @example
 * const z = matmul(x, w);                          // [batch, in] · [in, out]
 * const dw = matmul(x, dz, { transposeA: true });  // xᵀ · dZ
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  a.assertAlive("matmul");
  b.assertAlive("matmul");
  // shapes are checked before the operands move, so a product that cannot be formed changes nothing
  const geo = matmulGeometry(a, b, transposeA, transposeB);
  a = onActiveBackend(a, "matmul");
  b = onActiveBackend(b, "matmul");
  const backend = backends.active;
  const y = produce(geo.outShape, (out) =>
    backend.matmul({ a: a.storage.id, b: b.storage.id, out, transposeA, transposeB, batch: geo.batch, m: geo.m, n: geo.n, k: geo.k, aBatchStride: geo.aBatchStride, bBatchStride: geo.bBatchStride }), backend);
  return record(y, "matmul", [a, b], (g) => matmulGrads(g, a, b, transposeA, transposeB));
}

/** @internal dA and dB of op(a)·op(b) given the output gradient g. */
export function matmulGrads(g: Tensor, a: Tensor, b: Tensor, tA: boolean, tB: boolean): [Tensor | undefined, Tensor | undefined] {
  let da: Tensor | undefined;
  let db: Tensor | undefined;
  if (a.requiresGrad) {
    da = tA ? matmul(b, g, { transposeA: tB, transposeB: true }) : matmul(g, b, { transposeB: !tB });
    da = unbatch(da, a);
  }
  if (b.requiresGrad) {
    db = tB ? matmul(g, a, { transposeA: true, transposeB: tA }) : matmul(a, g, { transposeA: !tA });
    db = unbatch(db, b);
  }
  return [da, db];
}
