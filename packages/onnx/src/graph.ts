import { DataType, type AttributeProto, type NodeProto, type TensorProto } from "./proto.js";

/** An attribute value as written: numbers become INT when `int`, FLOAT otherwise. */
export type AttributeValue = { readonly float: number } | { readonly int: number } | { readonly ints: readonly number[] } | { readonly string: string };

function attribute(name: string, value: AttributeValue): AttributeProto {
  if ("float" in value) return { name, type: 1, f: value.float };
  if ("int" in value) return { name, type: 2, i: value.int };
  if ("ints" in value) return { name, type: 7, ints: [...value.ints] };
  return { name, type: 3, s: new TextEncoder().encode(value.string) };
}

/** Builds an ONNX graph: nodes with unique output names, float32 initializers, shared scalar constants. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<string, string>();

  /** A fresh value name starting with `prefix`. */
  fresh(prefix: string): string {
    let name = prefix;
    for (let k = 1; this.used.has(name); k++) name = `${prefix}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name given from outside (the graph's input). */
  reserve(name: string): string {
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output; returns the output's name. */
  node(opType: string, inputs: readonly string[], prefix: string, attributes: Readonly<Record<string, AttributeValue>> = {}, outputName?: string): string {
    const out = outputName ?? this.fresh(prefix);
    if (outputName) this.used.add(outputName);
    this.nodes.push({
      op_type: opType,
      name: this.fresh(`${prefix}/${opType}`),
      input: [...inputs],
      output: [out],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** A float32 initializer from values; returns its name. */
  floats(prefix: string, values: Float32Array, dims: readonly number[]): string {
    const name = this.fresh(prefix);
    const raw = new Uint8Array(values.byteLength);
    // raw_data is little-endian by the spec; Float32Array is the platform's order, so write it explicitly
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    this.initializers.push({ name, data_type: DataType.FLOAT, dims: [...dims], raw_data: raw });
    return name;
  }

  /** An int64 initializer (shapes for Reshape); returns its name. */
  int64s(prefix: string, values: readonly number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, data_type: DataType.INT64, dims: [values.length], int64_data: [...values] });
    return name;
  }

  /** A float32 scalar constant, one initializer per distinct value (−0 and 0 kept apart). */
  scalar(value: number): string {
    const key = Object.is(value, -0) ? "-0" : String(value);
    let name = this.scalars.get(key);
    if (!name) {
      name = this.floats(`const_${key.replace(/[^A-Za-z0-9.-]/g, "_")}`, Float32Array.of(value), []);
      this.scalars.set(key, name);
    }
    return name;
  }
}
