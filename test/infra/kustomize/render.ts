import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { buildKustomization } from './build.js';
import { asK8sObject, type K8sObject } from './objects.js';

/**
 * The kustomize version inside the kubectl on PATH, when it is 4 or newer (the `labels`, `patches`
 * and `replicas` fields the manifests use); undefined when there is no such kubectl.
 */
export function kubectlKustomizeVersion(): string | undefined {
  try {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const version = (JSON.parse(out) as { kustomizeVersion?: string }).kustomizeVersion;
    const major = Number(/^v(\d+)\./.exec(version ?? '')?.[1]);
    return major >= 4 ? version : undefined;
  } catch {
    return undefined;
  }
}

export function renderWithKubectl(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as unknown)
    .filter((value) => value !== null)
    .map((value, i) => asK8sObject(value, `kubectl kustomize ${dir} document ${i + 1}`));
}

export interface Rendered {
  renderer: string;
  objects: K8sObject[];
}

/** Renders with `kubectl kustomize` when a recent kubectl is installed, else with the built-in renderer. */
export function renderKustomization(dir: string): Rendered {
  const version = kubectlKustomizeVersion();
  return version
    ? { renderer: `kubectl kustomize (kustomize ${version})`, objects: renderWithKubectl(dir) }
    : { renderer: 'built-in renderer (kubectl not installed)', objects: buildKustomization(dir) };
}
