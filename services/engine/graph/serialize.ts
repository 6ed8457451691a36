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

function writeTensor(w: BinaryWriter, t: Initializer): void {
  for (const d of t.value.shape) w.tag(1, WireType.Varint).int64(d);
  w.tag(2, WireType.Varint).int32(onnxTypeCode[t.value.dtype]);
  w.tag(8, WireType.LengthDelimited).string(t.value.name);
  // raw_data is little-endian, which is the byte order of typed arrays on every platform ORT runs on
  w.tag(9, WireType.LengthDelimited).bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
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

/** Encodes the recorded graph as a binary ONNX ModelProto. */
export function serializeModel(g: GraphBuilder): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(IR_VERSION);
  w.tag(2, WireType.LengthDelimited).string('ptune');
  message(w, 7, (graph) => {
    g.nodes.forEach((n, i) => message(graph, 1, (m) => writeNode(m, n, i)));
    graph.tag(2, WireType.LengthDelimited).string(g.name);
    for (const t of g.initializers) message(graph, 5, (m) => writeTensor(m, t));
    for (const v of g.inputs) message(graph, 11, (m) => writeValueInfo(m, v));
    for (const v of g.outputs) message(graph, 12, (m) => writeValueInfo(m, v));
  });
  message(w, 8, (opset) => {
    opset.tag(1, WireType.LengthDelimited).string('');
    opset.tag(2, WireType.Varint).int64(OPSET);
  });
  return w.finish();
}
