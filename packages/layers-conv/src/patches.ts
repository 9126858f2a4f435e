import { type Tensor, concat, fill, fromValues, gather, reshape } from "@neurite/core";
import { type AxisGeometry, checkPatchSize, patchIndices } from "./geometry.js";

/** Marks a tensor as an intermediate of the op being composed; returns it. */
export type Track = <T extends Tensor>(t: T) => T;

/**
 * Runs an op composed of core ops and frees its intermediates (those passed to `track`): all of them when the
 * result is not in a gradient graph; none when it is, since the backward pass reads them (the gradient's scope
 * frees them afterwards). A failure frees them too, so a failed call leaks nothing.
 */
export function composed(build: (track: Track) => Tensor): Tensor {
  const made: Tensor[] = [];
  const track: Track = (t) => {
    made.push(t);
    return t;
  };
  let result: Tensor;
  try {
    result = build(track);
  } catch (e) {
    for (const t of made) if (!t.requiresGrad) t.dispose();
    throw e;
  }
  if (!result.requiresGrad) for (const t of made) if (t !== result) t.dispose();
  return result;
}

/**
 * im2col from core ops: the windows of an NHWC input as [batch, outH·outW, kH·kW, channels], built by one
 * `gather` over the flattened pixels (plus one appended row of `padValue` where a tap falls in the padding).
 * Autograd derives the backward (gather's scatter-add, concat's narrow).
 */
export function extractPatches(x: Tensor, rows: AxisGeometry, cols: AxisGeometry, track: Track, padValue = 0): Tensor {
  const [batch, , , channels] = x.shape as [number, number, number, number];
  checkPatchSize("im2col", rows, cols, batch, channels);
  const { indices, padded } = patchIndices(rows, cols);
  const pixels = track(reshape(x, [batch, rows.size * cols.size, channels]));
  const source = padded ? track(concat([pixels, track(fill([batch, 1, channels], padValue))], 1)) : pixels;
  const taps = track(gather(source, track(fromValues(indices, [indices.length])), 1));
  return track(reshape(taps, [batch, rows.out * cols.out, rows.kernel * cols.kernel, channels]));
}
