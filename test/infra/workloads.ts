import { containersOf, isObject, podSpecOf, type JsonObject, type K8sObject } from './kustomize/objects.js';

/** A workload's pod spec and containers (init containers included), for policy checks. */
export interface Workload {
  object: K8sObject;
  name: string;
  podSpec: JsonObject;
  containers: JsonObject[];
}

export function workloadsOf(objects: K8sObject[]): Workload[] {
  return objects.flatMap((object) => {
    const podSpec = podSpecOf(object);
    return podSpec ? [{ object, name: `${object.kind}/${object.metadata.name}`, podSpec, containers: containersOf(podSpec) }] : [];
  });
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} among: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export function workload(objects: K8sObject[], kind: string, name: string): Workload {
  const [w] = workloadsOf([find(objects, kind, name)]);
  return w;
}

/** Reads a nested field: get(o, 'spec', 'template', 'metadata'). */
export function get(root: JsonObject | undefined, ...keys: string[]): unknown {
  let node: unknown = root;
  for (const key of keys) node = isObject(node as JsonObject) ? (node as JsonObject)[key] : undefined;
  return node;
}

export function list(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter((v): v is JsonObject => isObject(v as JsonObject)) : [];
}
