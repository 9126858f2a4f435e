import { NeuriteError } from "@neurite/core";

/**
 * A model that cannot be written to ONNX as it is, or an ONNX file that cannot become a Neurite model: the message
 * names the layer or node, what is missing, and what to do.
 */
export class OnnxError extends NeuriteError {
  override name = "OnnxError";
}
