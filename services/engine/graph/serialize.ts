import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Attribute, GraphBuilder, GraphNode, Initializer, Value } from './builder.js';
import { onnxTypeCode } from './dtype.js';

/** Opset of the default ONNX domain the ops are written against (ReduceX take axes as inputs). */
export const OPSET = 18;
const IR_VERSION = 8;

// Field numbers from onnx/onnx.proto3 (ModelProto, GraphProto, NodeProto, ...).
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

type Write = (w: BinaryWriter) => void;
const message = (w: BinaryWriter, field: number, body: Write): void => {
  w.tag(field, WireType.LengthDelimited).fork();
  body(w);
  w.join();
};

function writeAttribute(w: BinaryWriter, name: string, a: Attribute): void {
  w.tag(1, WireType.LengthDelimited).string(name);
  w.tag(20, WireType.Varint).int32(ATTRIBUTE_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.tag(2, WireType.Bit32).float(a.value);
      break;
    case 'int':
      w.tag(3, WireType.Varint).int64(a.value);
      break;
    case 'string':
      w.tag(4, WireType.LengthDelimited).bytes(new TextEncoder().encode(a.value));
      break;
    case 'floats':
      for (const f of a.value) w.tag(7, WireType.Bit32).float(f);
      break;
    case 'ints':
      for (const i of a.value) w.tag(8, WireType.Varint).int64(i);
      break;
  }
}

function writeNode(w: BinaryWriter, n: GraphNode, index: number): void {
  for (const i of n.inputs) w.tag(1, WireType.LengthDelimited).string(i.name);
  for (const o of n.outputs) w.tag(2, WireType.LengthDelimited).string(o.name);
  w.tag(3, WireType.LengthDelimited).string(`${n.opType}_${index}`);
  w.tag(4, WireType.LengthDelimited).string(n.opType);
  for (const [name, a] of Object.entries(n.attributes)) message(w, 5, (m) => writeAttribute(m, name, a));
  if (n.domain) w.tag(7, WireType.LengthDelimited).string(n.domain);
}

/** TensorProto fields before raw_data; raw_data (field 9) follows as a separate chunk. */
function tensorHeader(t: Initializer): Uint8Array {
  const w = new BinaryWriter();
  for (const d of t.value.shape) w.tag(1, WireType.Varint).int64(d);
  w.tag(2, WireType.Varint).int32(onnxTypeCode[t.value.dtype]);
  w.tag(8, WireType.LengthDelimited).string(t.value.name);
  w.tag(9, WireType.LengthDelimited).uint32(t.data.byteLength);
  return w.finish();
}

function writeValueInfo(w: BinaryWriter, v: Value): void {
  w.tag(1, WireType.LengthDelimited).string(v.name);
  message(w, 2, (type) =>
    message(type, 1, (tensor) => {
      tensor.tag(1, WireType.Varint).int32(onnxTypeCode[v.dtype]);
      message(tensor, 2, (shape) => {
        for (const d of v.shape) message(shape, 1, (dim) => dim.tag(1, WireType.Varint).int64(d));
      });
    }),
  );
}

const varintBytes = (n: number): Uint8Array => new BinaryWriter().uint32(n).finish();
const lengthDelimited = (field: number, length: number): Uint8Array =>
  new BinaryWriter().tag(field, WireType.LengthDelimited).uint32(length).finish();

/**
 * Encodes the recorded graph as a binary ONNX ModelProto. Initializer bytes are copied once,
 * straight into the result (no growing buffer), so peak memory stays near weights + model.
 */
export function serializeModel(g: GraphBuilder): Uint8Array {
  const small = (body: Write): Uint8Array => {
    const w = new BinaryWriter();
    body(w);
    return w.finish();
  };
  const graphChunks: Uint8Array[] = [
    small((graph) => {
      g.nodes.forEach((n, i) => message(graph, 1, (m) => writeNode(m, n, i)));
      graph.tag(2, WireType.LengthDelimited).string(g.name);
    }),
  ];
  for (const t of g.initializers) {
    const header = tensorHeader(t);
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    graphChunks.push(lengthDelimited(5, header.length + raw.length), header, raw);
  }
  graphChunks.push(
    small((graph) => {
      for (const v of g.inputs) message(graph, 11, (m) => writeValueInfo(m, v));
      for (const v of g.outputs) message(graph, 12, (m) => writeValueInfo(m, v));
    }),
  );
  const graphLength = graphChunks.reduce((n, c) => n + c.length, 0);
  const chunks = [
    small((w) => {
      w.tag(1, WireType.Varint).int64(IR_VERSION);
      w.tag(2, WireType.LengthDelimited).string('ptune');
      w.tag(7, WireType.LengthDelimited);
    }),
    varintBytes(graphLength),
    ...graphChunks,
    small((w) =>
      message(w, 8, (opset) => {
        opset.tag(1, WireType.LengthDelimited).string('');
        opset.tag(2, WireType.Varint).int64(OPSET);
      }),
    ),
  ];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
