/**
 * The ONNX protobuf messages, encoded and decoded by protobufjs from the official onnx.proto (see
 * `proto/onnx.proto` and `scripts/generate-descriptor.mjs`). The interfaces name the fields this package reads
 * and writes, with the .proto's own field names; everything else in a file is kept by protobufjs and ignored here.
 */
import protobuf from "protobufjs/light.js";
import { ONNX_DESCRIPTOR } from "./onnx-descriptor.js";

/** `TensorProto.DataType` values this package meets. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** `AttributeProto.AttributeType` values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorProto {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  name?: string;
  raw_data?: Uint8Array;
  /** External data (weights in another file): refused on import, never written. */
  external_data?: { key?: string; value?: string }[];
  data_location?: number;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: unknown;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface Dimension {
  dim_value?: number;
  dim_param?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: Dimension[] } };
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface ModelProto {
  ir_version?: number;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
}

let modelType: protobuf.Type | undefined;

function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_DESCRIPTOR).lookupType("onnx.ModelProto");
  return modelType;
}

/** ModelProto → bytes. The message is checked against the schema first (a wrong field type is a bug here). */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`internal error: the ONNX model does not fit onnx.proto (${problem})`);
  return type.encode(type.fromObject(model)).finish();
}

/**
 * bytes → ModelProto, with 64-bit integers as numbers (a value beyond 2^53 loses precision; sizes are checked
 * against the bytes afterwards, so a huge dimension is refused, never allocated). Throws protobufjs's error on a
 * malformed buffer.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const message = type.decode(bytes);
  return type.toObject(message, { longs: Number, defaults: false, arrays: true });
}
