/**
 * A small ONNX graph builder: nodes with attributes, float and int64
 * initializers, graph inputs and outputs with a dynamic batch dimension, and
 * serialization to a ModelProto (opset 17) through onnx-proto's generated
 * protobuf code. Names are made unique here, so converters never collide.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 17;
/** IR version 8 reads opsets up to 18. */
const IR_VERSION = 8;

/** A number is an INT (an ONNX attribute's type is fixed by the op); floats are wrapped. */
export type AttributeValue = number | string | number[] | { float: number };

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly used = new Set<string>();

  /** A fresh value name built on `base`. */
  name(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_');
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node; returns the names of its outputs (`outputs` of them, made from the node's name). */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, base = opType, outputs = 1): string[] {
    const nodeName = this.name(base);
    const outs = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? nodeName : this.name(`${nodeName}:${i}`)));
    this.nodes.push(
      onnx.NodeProto.create({
        name: nodeName,
        opType,
        input: inputs,
        output: outs,
        attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
      }),
    );
    return outs;
  }

  /** One-output node. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, base = opType): string {
    return this.node(opType, inputs, attributes, base)[0];
  }

  floats(base: string, dims: number[], values: Float32Array | number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${base}: ${data.length} values for shape [${dims}]`);
    const name = this.name(base);
    // raw_data is little-endian float32, as this platform stores it.
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
      }),
    );
    return name;
  }

  /** A quantized tensor (8-bit values or 32-bit biases) as raw little-endian bytes. */
  quantized(base: string, dims: number[], values: Int8Array | Uint8Array | Int32Array): string {
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${base}: ${values.length} values for shape [${dims}]`);
    const T = onnx.TensorProto.DataType;
    const dataType = values instanceof Int8Array ? T.INT8 : values instanceof Uint8Array ? T.UINT8 : T.INT32;
    const name = this.name(base);
    this.initializers.push(
      onnx.TensorProto.create({ name, dims, dataType, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) }),
    );
    return name;
  }

  int64s(base: string, values: number[]): string {
    const name = this.name(base);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
    return name;
  }

  scalar(base: string, value: number): string {
    return this.floats(base, [], [value]);
  }

  /** A float32 graph input or output; null dimensions are dynamic and named `batch`. */
  input(name: string, shape: (number | null)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  /** Without a shape, onnxruntime infers it. */
  output(name: string, shape?: (number | null)[]): void {
    this.used.add(name);
    this.outputs.push(valueInfo(name, shape));
  }

  /** Makes `from` available under the output name `to`. */
  rename(from: string, to: string): void {
    this.nodes.push(onnx.NodeProto.create({ name: this.name(`${to}_identity`), opType: 'Identity', input: [from], output: [to] }));
  }

  serialize(graphName: string, producer: { name: string; version: string }, metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer.name,
      producerVersion: producer.version,
      opsetImport: [{ domain: '', version: OPSET }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: onnx.GraphProto.create({ name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, shape?: (number | null)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        ...(shape ? { shape: { dim: shape.map((d) => (d === null ? { dimParam: 'batch' } : { dimValue: d })) } } : {}),
      },
    },
  });
}

function attribute(name: string, value: AttributeValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
}
