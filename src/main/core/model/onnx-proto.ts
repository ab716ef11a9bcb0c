// The few ONNX protobuf messages an exported network needs, encoded by hand (field numbers from onnx.proto3),
// so exporting needs neither Python nor a protobuf library.

/** A protobuf message being written: fields appended in order, each a tag then its value. */
class Message {
  private chunks: Uint8Array[] = []
  private length = 0

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.length
  }

  private varint(value: number | bigint): void {
    // int64 fields: negative values are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, BigInt(value))
    const out: number[] = []
    do {
      let byte = Number(v & 0x7fn)
      v >>= 7n
      if (v !== 0n) byte |= 0x80
      out.push(byte)
    } while (v !== 0n)
    this.push(Uint8Array.from(out))
  }

  private tag(field: number, wireType: 0 | 2 | 5): void {
    this.varint((field << 3) | wireType)
  }

  int(field: number, value: number): this {
    this.tag(field, 0)
    this.varint(value)
    return this
  }

  ints(field: number, values: readonly number[]): this {
    for (const v of values) this.int(field, v)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2)
    this.varint(value.length)
    this.push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  strings(field: number, values: readonly string[]): this {
    for (const v of values) this.string(field, v)
    return this
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.encode())
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const c of this.chunks) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }
}

/** A float tensor with its values (an initializer: a layer's weights). */
export interface OnnxTensor {
  name: string
  dims: number[]
  data: Float32Array
}

/** An attribute: whole numbers, or a list of them. */
export type OnnxAttribute = number | number[]

export interface OnnxNode {
  op: string
  name: string
  inputs: string[]
  outputs: string[]
  attributes?: Record<string, OnnxAttribute>
}

/** A graph input or output: a float tensor whose dimensions are sizes or named (free) sizes. */
export interface OnnxValue {
  name: string
  dims: (number | string)[]
}

export interface OnnxGraph {
  name: string
  nodes: OnnxNode[]
  initializers: OnnxTensor[]
  inputs: OnnxValue[]
  outputs: OnnxValue[]
}

const FLOAT = 1 // TensorProto.DataType.FLOAT
const ATTRIBUTE_INT = 2
const ATTRIBUTE_INTS = 7
/** IR version 8 (ONNX 1.10+) with opset 13: read by every onnxruntime since 1.10 and by onnx for Python. */
const IR_VERSION = 8
export const OPSET = 13

function tensor(t: OnnxTensor): Message {
  if (t.data.length !== t.dims.reduce((a, b) => a * b, 1)) throw new Error(`ONNX tensor ${t.name}: ${t.data.length} values do not fill ${t.dims.join('×')}`)
  // raw_data is little-endian; copy so that a view into a larger buffer writes only its own values.
  const raw = new Uint8Array(Float32Array.from(t.data).buffer)
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('ONNX export needs a little-endian machine')
  return new Message().ints(1, t.dims).int(2, FLOAT).string(8, t.name).bytes(9, raw)
}

function attribute(name: string, value: OnnxAttribute): Message {
  const m = new Message().string(1, name)
  return Array.isArray(value) ? m.ints(8, value).int(20, ATTRIBUTE_INTS) : m.int(3, value).int(20, ATTRIBUTE_INT)
}

function node(n: OnnxNode): Message {
  const m = new Message().strings(1, n.inputs).strings(2, n.outputs).string(3, n.name).string(4, n.op)
  for (const [name, value] of Object.entries(n.attributes ?? {})) m.message(5, attribute(name, value))
  return m
}

function valueInfo(v: OnnxValue): Message {
  const shape = new Message()
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d))
  const tensorType = new Message().int(1, FLOAT).message(2, shape)
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType))
}

/** The ModelProto bytes of a graph (an .onnx file). */
export function encodeOnnxModel(graph: OnnxGraph, producer: { name: string; version: string }): Uint8Array {
  const g = new Message()
  for (const n of graph.nodes) g.message(1, node(n))
  g.string(2, graph.name)
  for (const t of graph.initializers) g.message(5, tensor(t))
  for (const v of graph.inputs) g.message(11, valueInfo(v))
  for (const v of graph.outputs) g.message(12, valueInfo(v))
  return new Message()
    .int(1, IR_VERSION)
    .string(2, producer.name)
    .string(3, producer.version)
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, OPSET))
    .encode()
}
