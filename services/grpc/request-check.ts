/**
 * Checks every decoded request against what its descriptor allows before any handler (or guard)
 * sees it: the one place where hostile field values are refused, for every method of every
 * service, new ones included. Services keep their own rules (names, ranges that mean something to
 * them); this layer refuses what no service can act on.
 */
import { ScalarType, type DescEnum, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import * as grpc from '@grpc/grpc-js';
import { RpcError } from './rpc-error.js';

/** The largest integers the server can store (e.g. signed 32/64-bit database columns). */
export interface IntegerCeilings {
  /** Largest uint32/fixed32 value accepted; default 2³²−1 (the type's own range). */
  readonly maxUint32?: number;
  /** Largest uint64/fixed64 value accepted; default 2⁶⁴−1. */
  readonly maxUint64?: bigint;
}

/** What `requestDeserializer` yields for bytes that are not a valid encoding of the request type. */
export class UndecodableRequest {
  constructor(
    readonly typeName: string,
    readonly reason: string,
  ) {}
}

/** Throws INVALID_ARGUMENT (details.field names the field) for the first value no service may receive. */
export function checkRequest(desc: DescMessage, request: Message | UndecodableRequest, ceilings: IntegerCeilings = {}): void {
  if (request instanceof UndecodableRequest) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `the request is not a valid ${request.typeName}: ${request.reason}`);
  }
  const problem = firstProblem(reflect(desc, request), '', ceilings);
  if (problem !== undefined)
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `${problem.field}: ${problem.says}`, { field: problem.field });
}

interface Problem {
  readonly field: string;
  readonly says: string;
}

function firstProblem(message: ReflectMessage, prefix: string, ceilings: IntegerCeilings): Problem | undefined {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    const path = prefix + field.name;
    const problem = fieldProblem(message, field, path, ceilings);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function fieldProblem(message: ReflectMessage, field: DescField, path: string, ceilings: IntegerCeilings): Problem | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarProblem(field.scalar, message.get(field), path, ceilings);
    case 'enum':
      return enumProblem(field.enum, message.get(field), path);
    case 'message':
      return firstProblem(message.get(field), `${path}.`, ceilings);
    case 'list': {
      let index = 0;
      for (const item of message.get(field)) {
        const at = `${path}[${index++}]`;
        const problem = valueProblem(field, item, at, ceilings);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'map':
      for (const [key, value] of message.get(field)) {
        const at = `${path}[${JSON.stringify(String(key))}]`;
        const problem =
          scalarProblem(field.mapKey, key, `${path} key ${JSON.stringify(String(key))}`, ceilings) ??
          valueProblem(field, value, at, ceilings);
        if (problem !== undefined) return problem;
      }
      return undefined;
  }
}

/** An element of a list or a value of a map, by the kind of its field. */
function valueProblem(
  field: DescField & { fieldKind: 'list' | 'map' },
  value: unknown,
  path: string,
  ceilings: IntegerCeilings,
): Problem | undefined {
  switch (field.fieldKind === 'map' ? field.mapKind : field.listKind) {
    case 'scalar':
      return scalarProblem(field.scalar as ScalarType, value, path, ceilings);
    case 'enum':
      return enumProblem(field.enum as DescEnum, value, path);
    case 'message':
      return firstProblem(value as ReflectMessage, `${path}.`, ceilings);
    default:
      return undefined;
  }
}

function scalarProblem(type: ScalarType, value: unknown, path: string, ceilings: IntegerCeilings): Problem | undefined {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Number.isFinite(value) ? undefined : { field: path, says: `is ${String(value)}; it must be a finite number` };
    case ScalarType.STRING:
      return typeof value === 'string' && value.includes('\0')
        ? { field: path, says: 'contains a NUL character (U+0000), which no name or text may hold' }
        : undefined;
    case ScalarType.UINT32:
    case ScalarType.FIXED32: {
      const max = ceilings.maxUint32;
      return max !== undefined && (value as number) > max
        ? { field: path, says: `is ${String(value)}; it must be at most ${max}` }
        : undefined;
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      const max = ceilings.maxUint64;
      return max !== undefined && BigInt(value as bigint | string) > max
        ? { field: path, says: `is ${String(value)}; it must be at most ${max}` }
        : undefined;
    }
    default:
      return undefined;
  }
}

function enumProblem(desc: DescEnum, value: unknown, path: string): Problem | undefined {
  if (desc.values.some((known) => known.number === value)) return undefined;
  return {
    field: path,
    says: `${String(value)} is not a value of ${desc.typeName} (known: ${desc.values.map((known) => known.name).join(', ')})`,
  };
}
