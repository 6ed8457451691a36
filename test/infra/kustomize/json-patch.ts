import { isObject, type JsonValue } from './objects.js';

/** One RFC 6902 operation; the renderer supports add, remove and replace. */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: JsonValue;
}

export function parsePatchOperations(value: unknown, where: string): PatchOperation[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a JSON6902 patch (a list of operations)`);
  return value.map((entry: unknown, i) => {
    const op = entry as { op?: unknown; path?: unknown; value?: JsonValue };
    if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') {
      throw new Error(`${where}[${i}]: op ${JSON.stringify(op.op)} is not supported (use add, remove or replace)`);
    }
    if (typeof op.path !== 'string' || !op.path.startsWith('/')) throw new Error(`${where}[${i}]: path must be a JSON pointer`);
    if (op.op !== 'remove' && op.value === undefined) throw new Error(`${where}[${i}]: ${op.op} needs a value`);
    return { op: op.op, path: op.path, value: op.value };
  });
}

function decodePointer(path: string): string[] {
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies the operations in order, in place; throws (naming the path) on any path that does not fit. */
export function applyJsonPatch(doc: JsonValue, ops: PatchOperation[], where: string): void {
  for (const { op, path, value } of ops) {
    const tokens = decodePointer(path);
    const last = tokens.pop() as string;
    let parent: JsonValue = doc;
    for (const t of tokens) {
      const next: JsonValue | undefined = Array.isArray(parent) ? parent[Number(t)] : isObject(parent) ? parent[t] : undefined;
      if (next === undefined) throw new Error(`${where}: ${op} ${path}: /${t} does not exist`);
      parent = next;
    }
    const copy = value === undefined ? undefined : (structuredClone(value) as JsonValue);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      const inRange = Number.isInteger(index) && index >= 0 && index <= parent.length - (op === 'add' ? 0 : 1);
      if (!inRange) throw new Error(`${where}: ${op} ${path}: index ${last} is out of range`);
      if (op === 'add') parent.splice(index, 0, copy as JsonValue);
      else if (op === 'remove') parent.splice(index, 1);
      else parent[index] = copy as JsonValue;
    } else if (isObject(parent)) {
      if (op !== 'add' && !(last in parent)) throw new Error(`${where}: ${op} ${path}: the target does not exist`);
      if (op === 'remove') delete parent[last];
      else parent[last] = copy as JsonValue;
    } else {
      throw new Error(`${where}: ${op} ${path}: the parent is not an object or a list`);
    }
  }
}
