import * as models from 'kubernetes-models';
import { isObject, objectKey, type K8sObject } from '../kustomize/objects.js';
import { modelPath } from './model-path.js';

type ModelClass = new (data: unknown) => { validate(): void };
type ModelIndex = Record<string, Record<string, ModelClass> | Record<string, Record<string, ModelClass>>>;

function modelClass(o: K8sObject): ModelClass {
  const { namespaceKey, version, kind } = modelPath(o.apiVersion, o.kind);
  const index = models as unknown as ModelIndex;
  const group = index[namespaceKey];
  const inVersion = (namespaceKey === version ? group : group?.[version]) as Record<string, ModelClass> | undefined;
  const model = inVersion?.[kind];
  if (typeof model !== 'function') throw new Error(`${objectKey(o)}: kubernetes-models has no model for ${o.apiVersion} ${kind}`);
  return model;
}

/**
 * kustomize wraps long base64 Secret values over several lines; the API server's base64 decoder
 * skips line breaks, the schema's "byte" format does not, so they are removed before checking.
 */
function withUnwrappedSecretData(o: K8sObject): K8sObject {
  if (o.kind !== 'Secret' || !isObject(o.data)) return o;
  const data = Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/\n/g, '') : v]));
  return { ...o, data };
}

/**
 * Validates every object against the Kubernetes OpenAPI schema compiled into kubernetes-models
 * (types, formats, required fields, enums). Returns one message per invalid object.
 */
export function schemaErrors(objects: K8sObject[]): string[] {
  const errors: string[] = [];
  for (const o of objects) {
    try {
      new (modelClass(o))(withUnwrappedSecretData(o)).validate();
    } catch (err) {
      errors.push(`${objectKey(o)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return errors;
}
