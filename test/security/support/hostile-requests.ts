/**
 * Hostile requests derived from a request message's descriptor: for every field reachable from the
 * root (nested messages, oneof members, lists, maps), one request per hostile value of the field's
 * type with that field alone set; plus garbage and truncated bytes. Built as wire bytes, because
 * some values (invalid UTF-8) cannot be encoded by protobuf-es at all.
 */
import { create, ScalarType, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';

export interface HostileRequest {
  /** e.g. "tasks[].task.name = NUL" */
  readonly label: string;
  readonly bytes: Uint8Array;
  /** true: no server may accept it (INVALID_ARGUMENT); false: it may be valid, but must be handled */
  readonly invalid: boolean;
}

interface HostileValue {
  readonly label: string;
  readonly value: unknown;
  readonly invalid: boolean;
  /** replace this ASCII marker in the encoding with these bytes (same length) */
  readonly patch?: { readonly marker: string; readonly bytes: Uint8Array };
}

const INVALID_UTF8_MARKER = 'qZ7#xW!k';
// "fe\xff\xfeel..": a lone 0xff/0xfe is never valid UTF-8
const INVALID_UTF8 = Uint8Array.from([0x66, 0x65, 0xff, 0xfe, 0x65, 0x6c, 0x6c, 0x6f]);
const OVERSIZED_STRING = 'a'.repeat(200_000);
const OVERSIZED_REPEAT = 20_000;

function scalarValues(type: ScalarType): HostileValue[] {
  switch (type) {
    case ScalarType.STRING:
      return [
        { label: 'empty', value: '', invalid: false },
        { label: 'NUL', value: 'fe\0el', invalid: true },
        { label: 'invalid UTF-8', value: INVALID_UTF8_MARKER, invalid: true, patch: { marker: INVALID_UTF8_MARKER, bytes: INVALID_UTF8 } },
        { label: 'oversized', value: OVERSIZED_STRING, invalid: false },
      ];
    case ScalarType.BYTES:
      return [
        { label: 'garbage', value: Uint8Array.from({ length: 64 }, (_, i) => (i * 151 + 7) % 256), invalid: false },
        { label: 'oversized', value: new Uint8Array(1 << 20).fill(0xa5), invalid: false },
      ];
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return [
        { label: '2^31-1', value: 2 ** 31 - 1, invalid: false },
        { label: '2^31', value: 2 ** 31, invalid: true },
        { label: '2^32-1', value: 2 ** 32 - 1, invalid: true },
      ];
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return [
        { label: '-2^31', value: -(2 ** 31), invalid: false },
        { label: '2^31-1', value: 2 ** 31 - 1, invalid: false },
      ];
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return [
        { label: '2^31', value: 2n ** 31n, invalid: false },
        { label: '2^63-1', value: 2n ** 63n - 1n, invalid: false },
        { label: '2^63', value: 2n ** 63n, invalid: true },
        { label: '2^64-1', value: 2n ** 64n - 1n, invalid: true },
      ];
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return [
        { label: '-2^63', value: -(2n ** 63n), invalid: false },
        { label: '2^63-1', value: 2n ** 63n - 1n, invalid: false },
      ];
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return [
        { label: 'NaN', value: Number.NaN, invalid: true },
        { label: '+Inf', value: Number.POSITIVE_INFINITY, invalid: true },
        { label: '-Inf', value: Number.NEGATIVE_INFINITY, invalid: true },
        { label: 'huge', value: type === ScalarType.DOUBLE ? 1e308 : 3e38, invalid: false },
      ];
    case ScalarType.BOOL:
      return [{ label: 'true', value: true, invalid: false }];
  }
}

const ENUM_VALUES: HostileValue[] = [
  { label: 'unknown enum 12345', value: 12345, invalid: true },
  { label: 'unknown enum -1', value: -1, invalid: true },
];

/** A plain (valid) element for filling an oversized list or map. */
function filler(field: DescField): unknown {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind === 'map' ? field.mapKind : field.fieldKind;
  if (kind === 'message') return {};
  if (kind === 'enum') return 0;
  const scalar = field.scalar as ScalarType;
  if (scalar === ScalarType.STRING) return 'a';
  if (scalar === ScalarType.BYTES) return new Uint8Array([1]);
  if (scalar === ScalarType.BOOL) return true;
  if ([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(scalar)) return 1n;
  return 1;
}

/** The hostile values for one field, as the init value of that field. */
function fieldValues(field: DescField): HostileValue[] {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarValues(field.scalar);
    case 'enum':
      return ENUM_VALUES;
    case 'message':
      return [];
    case 'list': {
      const element = field.listKind === 'scalar' ? scalarValues(field.scalar) : field.listKind === 'enum' ? ENUM_VALUES : [];
      return [
        ...element.map((v) => ({ ...v, label: `[${v.label}]`, value: [v.value] })),
        { label: `${OVERSIZED_REPEAT} elements`, value: Array.from({ length: OVERSIZED_REPEAT }, () => filler(field)), invalid: false },
      ];
    }
    case 'map': {
      const keys = field.mapKey === ScalarType.STRING ? scalarValues(ScalarType.STRING).filter((v) => v.label !== 'oversized') : [];
      const values = field.mapKind === 'scalar' ? scalarValues(field.scalar) : field.mapKind === 'enum' ? ENUM_VALUES : [];
      return [
        ...keys.map((k) => ({ ...k, label: `key ${k.label}`, value: { [k.value as string]: filler(field) } })),
        ...values.map((v) => ({ ...v, label: `value ${v.label}`, value: { k: v.value } })),
        {
          label: `${OVERSIZED_REPEAT} entries`,
          value: Object.fromEntries(Array.from({ length: OVERSIZED_REPEAT }, (_, i) => [`k${i}`, filler(field)])),
          invalid: false,
        },
      ];
    }
  }
}

/** The init shape that sets `path` (root first) to `value`, oneofs by case. */
function initAt(path: readonly DescField[], value: unknown): Record<string, unknown> {
  const [field, ...rest] = path;
  const inner = rest.length === 0 ? value : initAt(rest, value);
  return field.oneof === undefined ? { [field.localName]: inner } : { [field.oneof.localName]: { case: field.localName, value: inner } };
}

/** Every field path from the root, nested messages included (a type already on the path is not entered again). */
function fieldPaths(desc: DescMessage, seen: readonly string[] = []): DescField[][] {
  return desc.fields.flatMap((field) => {
    const own = [[field]];
    if (field.fieldKind !== 'message' || seen.includes(field.message.typeName)) return own;
    return [...own, ...fieldPaths(field.message, [...seen, desc.typeName]).map((rest) => [field, ...rest])];
  });
}

function patched(bytes: Uint8Array, patch: NonNullable<HostileValue['patch']>): Uint8Array {
  const marker = new TextEncoder().encode(patch.marker);
  const at = Buffer.from(bytes).indexOf(Buffer.from(marker));
  if (at < 0) throw new Error(`marker ${patch.marker} not found in the encoding`);
  const out = Uint8Array.from(bytes);
  out.set(patch.bytes, at);
  return out;
}

/** Every hostile request for one request type. */
export function hostileRequests(desc: DescMessage): HostileRequest[] {
  const requests: HostileRequest[] = [
    { label: 'empty message', bytes: new Uint8Array(0), invalid: false },
    { label: 'garbage bytes ff ff ff ff ff', bytes: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]), invalid: true },
  ];
  for (const path of fieldPaths(desc)) {
    const name = path.map((f) => (f.fieldKind === 'list' ? `${f.name}[]` : f.name)).join('.');
    for (const hostile of fieldValues(path[path.length - 1])) {
      const encoded = toBinary(desc, create(desc, initAt(path, hostile.value)));
      requests.push({
        label: `${name} = ${hostile.label}`,
        bytes: hostile.patch ? patched(encoded, hostile.patch) : encoded,
        invalid: hostile.invalid,
      });
    }
  }
  // a valid encoding cut short inside its last field
  const cut = requests.find((r) => r.bytes.length > 2 && !r.invalid);
  if (cut !== undefined)
    requests.push({ label: `truncated (${cut.label})`, bytes: cut.bytes.subarray(0, cut.bytes.length - 1), invalid: true });
  return requests;
}
