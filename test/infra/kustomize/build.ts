/**
 * A small offline kustomize: enough of `kubectl kustomize` for infra/k8s, used when kubectl is
 * absent. It implements exactly the fields infra/README.md lists and rejects any other, so the
 * manifests cannot drift outside what it renders faithfully. When kubectl is present the tests
 * check both renderers give the same objects.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { applyJsonPatch, parsePatchOperations } from './json-patch.js';
import { kustomizeNameHash } from './name-hash.js';
import {
  asK8sObject,
  child,
  configReferences,
  containersOf,
  isObject,
  podSpecOf,
  TEMPLATE_KINDS,
  type JsonObject,
  type K8sObject,
} from './objects.js';

interface LabelSet {
  pairs: Record<string, string>;
  includeSelectors?: boolean;
  includeTemplates?: boolean;
}
interface Generator {
  name: string;
  behavior?: 'create' | 'merge';
  literals?: string[];
  type?: string;
}
interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
}
interface PatchRule {
  target: { kind: string; name: string };
  patch?: string;
  path?: string;
}
interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  labels?: LabelSet[];
  resources?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  images?: ImageRule[];
  replicas?: { name: string; count: number }[];
  patches?: PatchRule[];
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'configMapGenerator',
  'secretGenerator',
  'images',
  'replicas',
  'patches',
]);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
]);
const REPLICATED_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet']);

/** A resource while building: generated ones get their hash suffix only at the very end. */
interface Entry {
  object: K8sObject;
  generated: boolean;
}

function readKustomization(dir: string): { k: Kustomization; file: string } {
  const file = path.join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${dir}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  for (const field of Object.keys(k)) {
    if (!SUPPORTED_FIELDS.has(field)) {
      throw new Error(`${file}: field '${field}' is outside the kustomize subset the offline renderer supports (see infra/README.md)`);
    }
  }
  return { k, file };
}

function readResourceFile(file: string): Entry[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc, i) => {
      if (doc.errors.length > 0) throw new Error(`${file} document ${i + 1}: ${doc.errors[0].message}`);
      return doc.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined)
    .map((value, i) => ({ object: asK8sObject(value, `${file} document ${i + 1}`), generated: false }));
}

/** Base64 as kustomize writes Secret data: lines of 70 characters, each ended by a newline, once it needs more than one. */
export function kustomizeBase64(value: string): string {
  const encoded = Buffer.from(value, 'utf8').toString('base64');
  if (encoded.length < 70) return encoded;
  return encoded.replace(/.{1,70}/g, (line) => `${line}\n`);
}

function generate(kind: 'ConfigMap' | 'Secret', g: Generator, file: string): K8sObject {
  const data: Record<string, string> = {};
  for (const literal of g.literals ?? []) {
    const eq = literal.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: ${kind} generator ${g.name}: literal '${literal}' is not KEY=VALUE`);
    const value = literal.slice(eq + 1);
    data[literal.slice(0, eq)] = kind === 'Secret' ? kustomizeBase64(value) : value;
  }
  const object: K8sObject = { apiVersion: 'v1', kind, metadata: { name: g.name }, data };
  if (kind === 'Secret') object.type = g.type ?? 'Opaque';
  return object;
}

function runGenerators(entries: Entry[], k: Kustomization, file: string): void {
  const groups: ['ConfigMap' | 'Secret', Generator[] | undefined][] = [
    ['ConfigMap', k.configMapGenerator],
    ['Secret', k.secretGenerator],
  ];
  for (const [kind, generators] of groups) {
    for (const g of generators ?? []) {
      const made = generate(kind, g, file);
      const existing = entries.find((e) => e.generated && e.object.kind === kind && e.object.metadata.name === g.name);
      if ((g.behavior ?? 'create') === 'merge') {
        if (!existing) throw new Error(`${file}: ${kind} generator ${g.name} has behavior merge but no base generates it`);
        Object.assign(child(existing.object, ['data'], true) as JsonObject, made.data);
      } else {
        if (existing) throw new Error(`${file}: ${kind} ${g.name} is generated twice (use behavior: merge)`);
        entries.push({ object: made, generated: true });
      }
    }
  }
}

function applyLabels(entries: Entry[], sets: LabelSet[], file: string): void {
  for (const set of sets) {
    if (set.includeSelectors) throw new Error(`${file}: labels with includeSelectors are outside the supported subset`);
    for (const { object } of entries) {
      Object.assign(child(object, ['metadata', 'labels'], true) as JsonObject, set.pairs);
      if (!set.includeTemplates) continue;
      if (TEMPLATE_KINDS.has(object.kind))
        Object.assign(child(object, ['spec', 'template', 'metadata', 'labels'], true) as JsonObject, set.pairs);
      if (object.kind === 'StatefulSet') {
        const claims = child(object, ['spec'])?.volumeClaimTemplates;
        for (const claim of Array.isArray(claims) ? claims.filter(isObject) : []) {
          Object.assign(child(claim, ['metadata', 'labels'], true) as JsonObject, set.pairs);
        }
      }
    }
  }
}

function applyPatches(entries: Entry[], patches: PatchRule[], dir: string, file: string): void {
  for (const [i, rule] of patches.entries()) {
    const where = `${file} patches[${i}]`;
    const source = rule.patch ?? (rule.path ? readFileSync(path.join(dir, rule.path), 'utf8') : undefined);
    if (source === undefined) throw new Error(`${where}: needs patch or path`);
    const ops = parsePatchOperations(parse(source), where);
    const targets = entries.filter((e) => e.object.kind === rule.target.kind && e.object.metadata.name === rule.target.name);
    if (targets.length === 0) throw new Error(`${where}: no ${rule.target.kind} named ${rule.target.name}`);
    for (const t of targets) applyJsonPatch(t.object, ops, where);
  }
}

function applyImages(entries: Entry[], rules: ImageRule[]): void {
  for (const { object } of entries) {
    const spec = podSpecOf(object);
    for (const container of spec ? containersOf(spec) : []) {
      const image = String(container.image);
      const match = /^(.+?)(?::([^:/@]+))?(@.+)?$/.exec(image);
      const rule = rules.find((r) => r.name === match?.[1]);
      if (!match || !rule) continue;
      const tag = rule.newTag ?? match[2];
      container.image = `${rule.newName ?? match[1]}${tag ? `:${tag}` : ''}${rule.newTag ? '' : (match[3] ?? '')}`;
    }
  }
}

function applyReplicas(entries: Entry[], rules: { name: string; count: number }[], file: string): void {
  for (const rule of rules) {
    const targets = entries.filter((e) => REPLICATED_KINDS.has(e.object.kind) && e.object.metadata.name === rule.name);
    if (targets.length === 0) throw new Error(`${file}: replicas: no workload named ${rule.name}`);
    for (const t of targets) (child(t.object, ['spec'], true) as JsonObject).replicas = rule.count;
  }
}

function buildLevel(dir: string): Entry[] {
  const { k, file } = readKustomization(dir);
  const entries: Entry[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (!existsSync(target)) throw new Error(`${file}: resource ${resource} does not exist`);
    entries.push(...(statSync(target).isDirectory() ? buildLevel(target) : readResourceFile(target)));
  }
  runGenerators(entries, k, file);
  if (k.namespace) {
    for (const { object } of entries) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
  }
  applyPatches(entries, k.patches ?? [], dir, file);
  applyLabels(entries, k.labels ?? [], file);
  applyImages(entries, k.images ?? []);
  applyReplicas(entries, k.replicas ?? [], file);
  return entries;
}

/** Renders the kustomization in `dir` the way `kubectl kustomize dir` does, for the supported subset. */
export function buildKustomization(dir: string): K8sObject[] {
  const entries = buildLevel(dir);
  const renamed = new Map<string, string>();
  for (const e of entries.filter((x) => x.generated)) {
    const original = e.object.metadata.name;
    e.object.metadata.name = `${original}-${kustomizeNameHash(e.object)}`;
    renamed.set(`${e.object.kind}/${original}`, e.object.metadata.name);
  }
  for (const { object } of entries) {
    const spec = podSpecOf(object);
    for (const { holder, field, kind } of spec ? configReferences(spec) : []) {
      const next = renamed.get(`${kind}/${String(holder[field])}`);
      if (next) holder[field] = next;
    }
  }
  return entries.map((e) => e.object);
}
