import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue } from './objects.js';

/** Go's encoding/json output for maps and strings: sorted keys, HTML-safe escapes. */
function goJson(value: JsonValue): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${goJson(k)}:${goJson(value[k])}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The suffix kustomize appends to generated ConfigMap and Secret names: sha256 over the Go JSON
 * of {kind, name, (type,) data}, first 10 hex digits with 0, 1, 3, a and e replaced by letters.
 * kustomize 5.x hashes with an empty name (checked against kubectl 1.32 / kustomize 5.5.0:
 * ConfigMap demo {a: b} -> demo-4h2mbtbbt6, Secret demo {a: b} -> demo-k695gkmbtk).
 */
export function kustomizeNameHash(generated: JsonObject & { kind: string }): string {
  const encoded: JsonObject = { kind: generated.kind, name: '' };
  if (generated.kind === 'Secret') encoded.type = (generated.type as string | undefined) ?? '';
  for (const field of ['data', 'binaryData']) {
    const data = generated[field];
    if (data !== undefined && data !== null && Object.keys(data).length > 0) encoded[field] = data;
  }
  const hex = createHash('sha256').update(goJson(encoded)).digest('hex');
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => swap[c] ?? c).join('');
}
