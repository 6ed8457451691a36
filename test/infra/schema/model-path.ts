/**
 * Where kubernetes-models keeps the model of an apiVersion + kind: core `v1` at the top level,
 * named groups as folders ("policy/v1" -> policy/v1, "networking.k8s.io/v1" -> networking.k8s.io/v1).
 */
export interface ModelPath {
  namespaceKey: string;
  folder: string;
  version: string;
  kind: string;
}

export function modelPath(apiVersion: string, kind: string): ModelPath {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  // The package's index names groups in camel case: networking.k8s.io -> networkingK8sIo.
  const namespaceKey = group === '' ? version : group.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase());
  const folder = group === '' ? version : `${group}/${version}`;
  return { namespaceKey, folder, version, kind };
}
