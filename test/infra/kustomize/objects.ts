/** Kubernetes objects as plain parsed YAML, with the few typed accessors the renderer and tests need. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string; labels?: Record<string, string> };
}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asK8sObject(value: unknown, where: string): K8sObject {
  const v = value as JsonValue;
  if (
    !isObject(v) ||
    typeof v.apiVersion !== 'string' ||
    typeof v.kind !== 'string' ||
    !isObject(v.metadata) ||
    typeof v.metadata.name !== 'string'
  ) {
    throw new Error(`${where}: not a Kubernetes object (needs apiVersion, kind and metadata.name)`);
  }
  return v as K8sObject;
}

export function objectKey(o: K8sObject): string {
  return `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The object at `path` under `root`, created (as {}) when `create` is set; undefined when absent. */
export function child(root: JsonObject, path: string[], create = false): JsonObject | undefined {
  let node: JsonObject = root;
  for (const key of path) {
    const next = node[key];
    if (isObject(next)) {
      node = next;
    } else if (next === undefined && create) {
      const made: JsonObject = {};
      node[key] = made;
      node = made;
    } else {
      return undefined;
    }
  }
  return node;
}

/** Workload kinds whose pod template sits at spec.template. */
export const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** The pod spec of a workload (or Pod), if the object has one. */
export function podSpecOf(o: K8sObject): JsonObject | undefined {
  if (o.kind === 'Pod') return child(o, ['spec']);
  if (TEMPLATE_KINDS.has(o.kind)) return child(o, ['spec', 'template', 'spec']);
  if (o.kind === 'CronJob') return child(o, ['spec', 'jobTemplate', 'spec', 'template', 'spec']);
  return undefined;
}

/** Containers and init containers of a pod spec. */
export function containersOf(podSpec: JsonObject): JsonObject[] {
  const all: JsonObject[] = [];
  for (const field of ['initContainers', 'containers']) {
    const list = podSpec[field];
    if (Array.isArray(list)) all.push(...list.filter(isObject));
  }
  return all;
}

/** A field of a pod spec that names a ConfigMap or a Secret: `holder[field]` is the name, `holder.key` the key if any. */
export interface ConfigReference {
  holder: JsonObject;
  field: 'name' | 'secretName';
  kind: 'ConfigMap' | 'Secret';
}

/** Every place a pod spec names a ConfigMap or a Secret: envFrom, env valueFrom and volumes. */
export function configReferences(podSpec: JsonObject): ConfigReference[] {
  const refs: ConfigReference[] = [];
  const objects = (value: JsonValue | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);
  for (const c of containersOf(podSpec)) {
    for (const from of objects(c.envFrom)) {
      if (isObject(from.configMapRef)) refs.push({ holder: from.configMapRef, field: 'name', kind: 'ConfigMap' });
      if (isObject(from.secretRef)) refs.push({ holder: from.secretRef, field: 'name', kind: 'Secret' });
    }
    for (const env of objects(c.env)) {
      const source = env.valueFrom;
      if (!isObject(source)) continue;
      if (isObject(source.configMapKeyRef)) refs.push({ holder: source.configMapKeyRef, field: 'name', kind: 'ConfigMap' });
      if (isObject(source.secretKeyRef)) refs.push({ holder: source.secretKeyRef, field: 'name', kind: 'Secret' });
    }
  }
  for (const volume of objects(podSpec.volumes)) {
    if (isObject(volume.configMap)) refs.push({ holder: volume.configMap, field: 'name', kind: 'ConfigMap' });
    if (isObject(volume.secret)) refs.push({ holder: volume.secret, field: 'secretName', kind: 'Secret' });
  }
  return refs;
}
