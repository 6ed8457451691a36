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

/** The in-memory "file" an external initializer's bytes are read from (`externalWeights`); one-to-one with names (`_` is escaped too). */
const externalLocation = (name: string): string => `bank/${name.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16)}_`)}`;

/** A TensorProto whose bytes live outside the model: external_data (field 13) location/offset/length, data_location (14) EXTERNAL. */
function externalTensor(w: BinaryWriter, v: Value, byteLength: number): void {
  for (const d of v.shape) w.tag(1, WireType.Varint).int64(d);
  w.tag(2, WireType.Varint).int32(onnxTypeCode[v.dtype]);
  w.tag(8, WireType.LengthDelimited).string(v.name);
  const entry = (key: string, value: string): void =>
    message(w, 13, (e) => {
      e.tag(1, WireType.LengthDelimited).string(key);
      e.tag(2, WireType.LengthDelimited).string(value);
    });
  entry('location', externalLocation(v.name));
  entry('offset', '0');
  entry('length', String(byteLength));
  w.tag(14, WireType.Varint).int32(1);
}

/** Options of `serializeModel`. */
export interface SerializeOptions {
  /**
   * Write the graph's bound inputs (its weights) as initializers whose bytes are external, read
   * from the bound buffers themselves (`externalWeights`), instead of as inputs fed on each run.
   */
  boundAsInitializers?: boolean;
}

/** The bound buffers as onnxruntime's in-memory external data files, for a model serialized with `boundAsInitializers`. */
export function externalWeights(g: GraphBuilder): { path: string; data: Uint8Array }[] {
  return [...g.bound].map(([name, t]) => ({
    path: externalLocation(name),
    data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }));
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
export function serializeModel(g: GraphBuilder, options: SerializeOptions = {}): Uint8Array {
  const small = (body: Write): Uint8Array => {
    const w = new BinaryWriter();
    body(w);
    return w.finish();
  };
  const external = options.boundAsInitializers === true;
  const graphChunks: Uint8Array[] = [
    small((graph) => {
      g.nodes.forEach((n, i) => message(graph, 1, (m) => writeNode(m, n, i)));
      graph.tag(2, WireType.LengthDelimited).string(g.name);
      if (external)
        for (const v of g.inputs)
          if (g.bound.has(v.name)) message(graph, 5, (m) => externalTensor(m, v, g.bound.get(v.name)!.data.byteLength));
    }),
  ];
  for (const t of g.initializers) {
    const header = tensorHeader(t);
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    graphChunks.push(lengthDelimited(5, header.length + raw.length), header, raw);
  }
  graphChunks.push(
    small((graph) => {
      for (const v of g.inputs) if (!(external && g.bound.has(v.name))) message(graph, 11, (m) => writeValueInfo(m, v));
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
