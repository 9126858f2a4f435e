/**
 * Reads ONNX tensors (initializers and Constant nodes) from an untrusted file: every size is checked with safe
 * integer arithmetic against a cap and against the bytes the file actually holds before anything is allocated.
 */
import { OnnxError } from "./errors.js";
import { type AttributeProto, DataType, type TensorProto } from "./proto.js";

export interface FloatTensor {
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

/** The element count of dims, or an error naming the tensor when a dimension is not a size or the count exceeds `maxElements`. */
export function checkedSize(dims: readonly number[], maxElements: number, what: string): number {
  let size = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxError(`${what}: dimension ${String(d)} is not a size (dims [${dims.join(", ")}])`);
    size *= d;
    if (size > maxElements) throw new OnnxError(`${what}: dims [${dims.join(", ")}] hold more than ${maxElements} elements, more than the file's size allows`);
  }
  return size;
}

/** A float32 tensor (FLOAT, or DOUBLE / INT64 / INT32 converted) from a TensorProto whose data is inside the file. */
export function readTensor(t: TensorProto, maxElements: number, what: string): { dims: readonly number[]; values: Float32Array | number[]; type: number } {
  if ((t.external_data?.length ?? 0) > 0 || t.data_location === 1) {
    throw new OnnxError(`${what} keeps its data in an external file, which importOnnx does not read; save the model with its weights inside (onnx.save(model, path, save_as_external_data=False))`);
  }
  const dims = t.dims ?? [];
  const size = checkedSize(dims, maxElements, what);
  const type = t.data_type ?? 0;
  const raw = t.raw_data;
  const width = type === DataType.FLOAT || type === DataType.INT32 ? 4 : type === DataType.DOUBLE || type === DataType.INT64 ? 8 : 0;
  if (width === 0) throw new OnnxError(`${what} has data type ${type}; importOnnx reads float32 weights (and int64 / int32 shapes, float64 converted)`);
  if (raw && raw.length > 0) {
    if (raw.length !== size * width) throw new OnnxError(`${what}: dims [${dims.join(", ")}] need ${size * width} bytes of raw data, the file holds ${raw.length}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (type === DataType.FLOAT) {
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = view.getFloat32(4 * i, true);
      return { dims, values, type };
    }
    const values: number[] = [];
    for (let i = 0; i < size; i++) {
      values.push(type === DataType.DOUBLE ? view.getFloat64(8 * i, true) : type === DataType.INT32 ? view.getInt32(4 * i, true) : Number(view.getBigInt64(8 * i, true)));
    }
    return { dims, values, type };
  }
  const list = type === DataType.FLOAT ? t.float_data : type === DataType.DOUBLE ? t.double_data : type === DataType.INT64 ? t.int64_data : t.int32_data;
  const data = list ?? [];
  if (data.length !== size) throw new OnnxError(`${what}: dims [${dims.join(", ")}] need ${size} values, the file holds ${data.length}`);
  return { dims, values: type === DataType.FLOAT ? Float32Array.from(data) : [...data], type };
}

/** The tensor of a Constant node's attribute (value, value_float(s), value_int(s)). */
export function constantTensor(attr: AttributeProto): TensorProto | undefined {
  switch (attr.name) {
    case "value": return attr.t;
    case "value_float": return { dims: [], data_type: DataType.FLOAT, float_data: [attr.f ?? 0] };
    case "value_floats": return { dims: [attr.floats?.length ?? 0], data_type: DataType.FLOAT, float_data: attr.floats ?? [] };
    case "value_int": return { dims: [], data_type: DataType.INT64, int64_data: [attr.i ?? 0] };
    case "value_ints": return { dims: [attr.ints?.length ?? 0], data_type: DataType.INT64, int64_data: attr.ints ?? [] };
    default: return undefined;
  }
}
