/**
 * Renders infra/k8s (base and every overlay) and checks every object offline: the Kubernetes
 * schema (kubernetes-models), unknown fields (its TypeScript interfaces), and the deployment policy
 * infra/README.md promises. Rendering uses `kubectl kustomize` when a kubectl with kustomize >= 4
 * is installed, else the built-in renderer; with kubectl present, both must agree exactly.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseToken } from '../../services/auth/token-secret.js';
import { buildKustomization, kustomizeBase64 } from './kustomize/build.js';
import { kustomizeNameHash } from './kustomize/name-hash.js';
import { configReferences, isObject, objectKey, type JsonObject, type K8sObject } from './kustomize/objects.js';
import { kubectlKustomizeVersion, renderKustomization, renderWithKubectl, type Rendered } from './kustomize/render.js';
import { schemaErrors } from './schema/validate-objects.js';
import { unknownFieldErrors } from './schema/unknown-fields.js';
import { find, get, list, workload, workloadsOf, type Workload } from './workloads.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8sDir = path.join(repoRoot, 'infra/k8s');
const overlays = readdirSync(path.join(k8sDir, 'overlays')).sort();
const targets = ['base', ...overlays.map((o) => `overlays/${o}`)];
const kubectlVersion = kubectlKustomizeVersion();
const renderer = kubectlVersion
  ? `kubectl kustomize (kustomize ${kubectlVersion})`
  : 'the built-in renderer (no kubectl with kustomize >= 4)';

/** The Secrets production creates out of band, and the keys ptune reads from each. */
const EXTERNAL_SECRETS: Record<string, string[]> = {
  'ptune-database': ['url'],
  'ptune-s3': ['access-key-id', 'secret-access-key'],
  'ptune-worker-token': ['token'],
  'ptune-inference-token': ['token'],
};

const cache = new Map<string, Rendered>();
function rendered(target: string): K8sObject[] {
  if (!cache.has(target)) cache.set(target, renderKustomization(path.join(k8sDir, target)));
  return (cache.get(target) as Rendered).objects;
}

const quantity = (v: unknown) => typeof v === 'string' || typeof v === 'number';
const decode = (b64: string) => Buffer.from(b64.replace(/\n/g, ''), 'base64').toString('utf8');
/** The namespace a kustomization sets (none for the namespace-agnostic base). */
const namespaceOf = (target: string) =>
  (parse(readFileSync(path.join(k8sDir, target, 'kustomization.yaml'), 'utf8')) as { namespace?: string }).namespace;

describe.each(targets)('infra/k8s/%s', (target) => {
  it(`renders with ${renderer}`, () => {
    const objects = rendered(target);
    expect(objects.length).toBeGreaterThan(5);
    const keys = objects.map(objectKey);
    expect(new Set(keys).size, 'duplicate objects').toBe(keys.length);
  });

  it('every object is valid against the Kubernetes schema (kubernetes-models .validate())', () => {
    expect(schemaErrors(rendered(target))).toEqual([]);
  });

  it('no object has an unknown or mistyped field (kubernetes-models TypeScript interfaces)', () => {
    expect(unknownFieldErrors(rendered(target), repoRoot)).toEqual([]);
  });

  it('every container runs as non-root on a read-only root filesystem, without privilege escalation or capabilities', () => {
    const problems: string[] = [];
    for (const w of workloadsOf(rendered(target))) {
      for (const c of w.containers) {
        const where = `${w.name}/${String(c.name)}`;
        const sc = isObject(c.securityContext) ? c.securityContext : {};
        const runAsNonRoot = sc.runAsNonRoot ?? get(w.podSpec, 'securityContext', 'runAsNonRoot');
        const runAsUser = sc.runAsUser ?? get(w.podSpec, 'securityContext', 'runAsUser');
        if (runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not true`);
        if (typeof runAsUser !== 'number' || runAsUser === 0)
          problems.push(`${where}: runAsUser ${String(runAsUser)} is not a non-root uid`);
        if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem is not true`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        if (!isDeepStrictEqual(get(sc, 'capabilities', 'drop'), ['ALL'])) problems.push(`${where}: capabilities.drop is not [ALL]`);
        if (get(sc, 'capabilities', 'add') !== undefined) problems.push(`${where}: adds capabilities`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every pod uses seccomp RuntimeDefault, mounts no service account token, and gets a writable /tmp emptyDir', () => {
    const problems: string[] = [];
    for (const w of workloadsOf(rendered(target))) {
      if (get(w.podSpec, 'securityContext', 'seccompProfile', 'type') !== 'RuntimeDefault')
        problems.push(`${w.name}: seccompProfile is not RuntimeDefault`);
      if (w.podSpec.automountServiceAccountToken !== false) problems.push(`${w.name}: automountServiceAccountToken is not false`);
      const emptyDirs = new Set(
        list(w.podSpec.volumes)
          .filter((v) => isObject(v.emptyDir))
          .map((v) => v.name),
      );
      for (const c of w.containers) {
        const tmp = list(c.volumeMounts).find((m) => m.mountPath === '/tmp');
        if (!tmp || !emptyDirs.has(tmp.name)) problems.push(`${w.name}/${String(c.name)}: /tmp is not an emptyDir mount`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every container sets CPU and memory requests and limits', () => {
    const problems: string[] = [];
    for (const w of workloadsOf(rendered(target))) {
      for (const c of w.containers) {
        for (const bound of ['requests', 'limits']) {
          for (const resource of ['cpu', 'memory']) {
            if (!quantity(get(c, 'resources', bound, resource))) problems.push(`${w.name}/${String(c.name)}: no ${bound}.${resource}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every ConfigMap and Secret a pod names is rendered, or is one of the documented external Secrets', () => {
    const objects = rendered(target);
    const problems: string[] = [];
    for (const w of workloadsOf(objects)) {
      for (const { holder, field, kind } of configReferences(w.podSpec)) {
        const name = String(holder[field]);
        const key = typeof holder.key === 'string' ? holder.key : undefined;
        const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
        if (found) {
          if (key !== undefined && !(isObject(found.data) && key in found.data))
            problems.push(`${w.name}: ${kind} ${name} has no key ${key}`);
        } else if (kind === 'ConfigMap' || !(name in EXTERNAL_SECRETS)) {
          problems.push(`${w.name}: ${kind} ${name} is neither rendered nor a documented external Secret`);
        } else if (key !== undefined && !EXTERNAL_SECRETS[name].includes(key)) {
          problems.push(`${w.name}: Secret ${name} key ${key} is not documented in infra/README.md`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('selectors select what they mean: workloads their pods, Services and the PDB a workload, the HPA a Deployment', () => {
    const objects = rendered(target);
    const workloads = workloadsOf(objects);
    const podLabels = (w: Workload) => (get(w.object, 'spec', 'template', 'metadata', 'labels') ?? {}) as Record<string, string>;
    const selects = (selector: unknown, labels: Record<string, string>) =>
      isObject(selector as JsonObject) &&
      Object.keys(selector as JsonObject).length > 0 &&
      Object.entries(selector as Record<string, string>).every(([k, v]) => labels[k] === v);
    const problems: string[] = [];
    for (const w of workloads.filter((x) => x.object.kind !== 'Job')) {
      if (!selects(get(w.object, 'spec', 'selector', 'matchLabels'), podLabels(w)))
        problems.push(`${w.name}: selector does not match its pod labels`);
    }
    for (const o of objects.filter((x) => x.kind === 'Service' || x.kind === 'PodDisruptionBudget')) {
      const selector = o.kind === 'Service' ? get(o, 'spec', 'selector') : get(o, 'spec', 'selector', 'matchLabels');
      if (!workloads.some((w) => selects(selector, podLabels(w)))) problems.push(`${objectKey(o)}: selects no rendered pods`);
    }
    for (const hpa of objects.filter((x) => x.kind === 'HorizontalPodAutoscaler')) {
      const ref = get(hpa, 'spec', 'scaleTargetRef') as JsonObject;
      if (!objects.some((o) => o.kind === ref.kind && o.metadata.name === ref.name))
        problems.push(`${objectKey(hpa)}: scales a missing ${String(ref.kind)}`);
    }
    expect(problems).toEqual([]);
  });

  it('every object is labelled app.kubernetes.io/part-of=ptune and placed in the overlay namespace', () => {
    const namespace = namespaceOf(target);
    for (const o of rendered(target)) {
      expect(o.metadata.labels?.['app.kubernetes.io/part-of'], objectKey(o)).toBe('ptune');
      if (o.kind === 'Namespace') expect(o.metadata.name).toBe(namespace);
      else expect(o.metadata.namespace, objectKey(o)).toBe(namespace);
    }
  });

  it('the coordinator has gRPC startup, readiness and liveness probes, a gRPC + console HTTP Service, a PDB and a CPU HPA', () => {
    const objects = rendered(target);
    const [coordinator] = workload(objects, 'Deployment', 'ptune-coordinator').containers;
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(get(coordinator, probe, 'grpc', 'port'), probe).toBe(50051);
    }
    const ports = list(get(find(objects, 'Service', 'ptune-coordinator'), 'spec', 'ports'));
    expect(ports.find((p) => p.port === 50051)?.appProtocol).toBe('grpc');
    // the web console: `ptune coordinator` listens on --http-port 8080 by default
    expect(ports.find((p) => p.port === 8080)).toMatchObject({ targetPort: 'http', appProtocol: 'http' });
    expect(list(get(coordinator, 'ports')).find((p) => p.name === 'http')?.containerPort).toBe(8080);
    expect(ports.some((p) => p.port === 9090)).toBe(true);
    expect(get(find(objects, 'PodDisruptionBudget', 'ptune-coordinator'), 'spec', 'minAvailable')).toBeGreaterThanOrEqual(1);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'ptune-coordinator');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(list(get(hpa, 'spec', 'metrics')).map((m) => get(m, 'resource', 'name'))).toContain('cpu');
  });

  it("the migration Job runs `ptune migrate`, then registers the workers' token, both against DATABASE_URL from the ptune-database Secret", () => {
    const objects = rendered(target);
    const job = workload(objects, 'Job', 'ptune-migrate');
    const secretOf = (c: JsonObject, env: string) =>
      get(
        list(c.env).find((e) => e.name === env),
        'valueFrom',
        'secretKeyRef',
      ) as JsonObject | undefined;
    const generated = (name: string) => new RegExp(`^${name}(-[a-z0-9]{10})?$`);
    const [migrate] = list(job.podSpec.initContainers);
    expect(migrate.args).toEqual(['migrate']);
    const [register] = list(job.podSpec.containers);
    expect(register.command, 'the image entrypoint (node bin/ptune.js) runs the arguments').toBeUndefined();
    expect(register.args).toEqual([
      'tokens',
      'create',
      '--namespace',
      '*',
      '--role',
      'worker',
      '--description',
      'k8s-workers',
      '--from-env',
      'PTUNE_TOKEN',
      '--database-url',
      '$(DATABASE_URL)',
    ]);
    for (const c of [migrate, register])
      expect(String(secretOf(c, 'DATABASE_URL')?.name), String(c.name)).toMatch(generated('ptune-database'));
    const token = secretOf(register, 'PTUNE_TOKEN');
    expect(String(token?.name)).toMatch(generated('ptune-worker-token'));
    expect(token?.key).toBe('token');
  });

  it('workers present the token the Job registers; the coordinator reads no worker token', () => {
    const objects = rendered(target);
    const [worker] = workload(objects, 'Deployment', 'ptune-worker').containers;
    const [register] = list(workload(objects, 'Job', 'ptune-migrate').podSpec.containers);
    const tokenRef = (c: JsonObject) =>
      get(
        list(c.env).find((e) => e.name === 'PTUNE_TOKEN'),
        'valueFrom',
        'secretKeyRef',
      );
    expect(tokenRef(worker)).toEqual(tokenRef(register));
    const coordinator = workload(objects, 'Deployment', 'ptune-coordinator');
    expect(JSON.stringify(coordinator.podSpec)).not.toMatch(/WORKER_TOKEN|ptune-worker-token/);
  });

  it('inference: `ptune infer` of PTUNE_INFER_MODEL with gRPC probes, a gRPC + HTTP Service and a CPU HPA; no database', () => {
    const objects = rendered(target);
    const w = workload(objects, 'Deployment', 'ptune-inference');
    const [inference] = w.containers;
    expect(inference.args).toEqual(
      expect.arrayContaining(['infer', '--model', '$(PTUNE_INFER_MODEL)', '--registry', 'ptune-coordinator:50051']),
    );
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ptune-config'));
    expect(get(config, 'data', 'PTUNE_INFER_MODEL')).toMatch(/^[a-z0-9._-]+$/);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
      expect(get(inference, probe, 'grpc', 'port'), probe).toBe(50052);
    const ports = list(get(find(objects, 'Service', 'ptune-inference'), 'spec', 'ports'));
    expect(ports.find((p) => p.port === 50052)?.appProtocol).toBe('grpc');
    expect(ports.find((p) => p.port === 8080)?.appProtocol).toBe('http');
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'ptune-inference');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(list(get(hpa, 'spec', 'metrics')).map((m) => get(m, 'resource', 'name'))).toContain('cpu');
    expect(JSON.stringify(w.podSpec)).not.toMatch(/DATABASE_URL|ptune-database/);
  });

  it('inference pods present the reader token the Job registers, and the worker token for fetching their model', () => {
    const objects = rendered(target);
    const [inference] = workload(objects, 'Deployment', 'ptune-inference').containers;
    const registers = list(workload(objects, 'Job', 'ptune-migrate').podSpec.containers);
    const envRef = (c: JsonObject | undefined, name: string) =>
      get(
        list(c?.env).find((e) => e.name === name),
        'valueFrom',
        'secretKeyRef',
      );
    const readerJob = registers.find((c) => c.name === 'register-inference-token');
    expect(readerJob?.args).toEqual(expect.arrayContaining(['--role', 'reader', '--namespace', '*']));
    expect(envRef(inference, 'PTUNE_TOKEN')).toEqual(envRef(readerJob, 'PTUNE_TOKEN'));
    const [worker] = workload(objects, 'Deployment', 'ptune-worker').containers;
    expect(envRef(inference, 'PTUNE_WORKER_TOKEN')).toEqual(envRef(worker, 'PTUNE_TOKEN'));
  });

  it('workers cache base models and datasets on an emptyDir at PTUNE_CACHE_DIR and may finish a checkpoint on SIGTERM', () => {
    const objects = rendered(target);
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ptune-config'));
    const cacheDir = get(config, 'data', 'PTUNE_CACHE_DIR');
    const w = workload(objects, 'Deployment', 'ptune-worker');
    const mount = list(w.containers[0].volumeMounts).find((m) => m.mountPath === cacheDir);
    expect(mount, `worker mounts PTUNE_CACHE_DIR=${String(cacheDir)}`).toBeDefined();
    expect(list(w.podSpec.volumes).find((v) => v.name === mount?.name)?.emptyDir).toBeDefined();
    expect(w.podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(120);
  });
});

describe.each(overlays)('overlay %s', (overlay) => {
  const target = `overlays/${overlay}`;

  it('pins every image to an explicit tag other than latest, or a digest', () => {
    for (const w of workloadsOf(rendered(target))) {
      for (const c of w.containers) {
        const image = String(c.image);
        const lastSegment = image.slice(image.lastIndexOf('/') + 1);
        expect(lastSegment, `${w.name}/${String(c.name)} image ${image}`).toMatch(/^[^:@]+(:(?!latest$)\w[\w.-]*|@sha256:[0-9a-f]{64})$/);
      }
    }
  });

  it('ships its own Namespace, with Pod Security "restricted" enforced', () => {
    const namespaces = rendered(target).filter((o) => o.kind === 'Namespace');
    expect(namespaces.map((n) => n.metadata.name)).toEqual([namespaceOf(target)]);
    const [ns] = namespaces;
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });
});

describe('overlay prod', () => {
  const objects = () => rendered('overlays/prod');

  it('runs GPU workers: one nvidia.com/gpu each, GPU node selector and toleration, CUDA execution provider', () => {
    const w = workload(objects(), 'Deployment', 'ptune-worker');
    const [worker] = w.containers;
    expect(get(worker, 'resources', 'limits', 'nvidia.com/gpu')).toBe('1');
    expect(Object.keys((w.podSpec.nodeSelector ?? {}) as JsonObject).some((k) => k.startsWith('nvidia.com/gpu'))).toBe(true);
    expect(list(w.podSpec.tolerations).some((t) => t.key === 'nvidia.com/gpu')).toBe(true);
    expect(worker.args).toEqual(expect.arrayContaining(['--execution-provider', 'cuda']));
  });

  it('commits no Secret: database, S3 and worker token come from Secrets created in the cluster', () => {
    expect(
      objects()
        .filter((o) => o.kind === 'Secret')
        .map(objectKey),
    ).toEqual([]);
  });

  it('spreads coordinators over nodes and zones and runs more of them than the base', () => {
    const coordinator = workload(objects(), 'Deployment', 'ptune-coordinator');
    const keys = list(coordinator.podSpec.topologySpreadConstraints).map((c) => c.topologyKey);
    expect(keys).toEqual(expect.arrayContaining(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']));
    const base = workload(rendered('base'), 'Deployment', 'ptune-coordinator');
    expect(get(coordinator.object, 'spec', 'replicas')).toBeGreaterThan(get(base.object, 'spec', 'replicas') as number);
  });

  it('brings no database or blob store of its own', () => {
    const kinds = objects().map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds.filter((k) => /postgres|minio|StatefulSet|PersistentVolumeClaim/.test(k))).toEqual([]);
  });
});

describe('overlay dev', () => {
  const objects = () => rendered('overlays/dev');

  it('runs CPU workers: no GPU resources, node selector or toleration anywhere, CPU execution provider', () => {
    for (const w of workloadsOf(objects())) {
      for (const c of w.containers) expect(JSON.stringify(c.resources ?? {}), w.name).not.toContain('nvidia.com/gpu');
      expect(w.podSpec.nodeSelector, w.name).toBeUndefined();
      expect(w.podSpec.tolerations, w.name).toBeUndefined();
    }
    const [worker] = workload(objects(), 'Deployment', 'ptune-worker').containers;
    expect(worker.args).toEqual(expect.arrayContaining(['--execution-provider', 'cpu']));
  });

  it('generates every Secret ptune reads, with obviously-dev values only', () => {
    const secrets = objects().filter((o) => o.kind === 'Secret');
    for (const [name, keys] of Object.entries(EXTERNAL_SECRETS)) {
      const secret = secrets.find((s) => s.metadata.name.startsWith(`${name}-`));
      expect(Object.keys((secret?.data ?? {}) as JsonObject).sort(), name).toEqual([...keys].sort());
    }
    for (const s of secrets) {
      for (const [key, value] of Object.entries((s.data ?? {}) as Record<string, string>)) {
        const decoded = decode(value);
        if (key !== 'user') expect(decoded, `${s.metadata.name}.${key}`).toContain('dev-only');
      }
    }
  });

  it('generates a well-formed worker token (ptk_<id>_<secret>) that the Job can register', () => {
    const secret = objects().find((o) => o.kind === 'Secret' && o.metadata.name.startsWith('ptune-worker-token-'));
    const token = decode(String(get(secret, 'data', 'token')));
    expect(parseToken(token), token).toBeDefined();
  });

  it('runs Postgres (StatefulSet, Service, volume) and MinIO with a bucket Job, wired into the ptune config', () => {
    const all = objects();
    const postgres = find(all, 'StatefulSet', 'ptune-postgres');
    expect(list(get(postgres, 'spec', 'volumeClaimTemplates'))).toHaveLength(1);
    expect(list(get(find(all, 'Service', 'ptune-postgres'), 'spec', 'ports'))[0].port).toBe(5432);
    const minioPorts = list(get(find(all, 'Service', 'ptune-minio'), 'spec', 'ports'));
    find(all, 'PersistentVolumeClaim', 'ptune-minio-data');
    find(all, 'Job', 'ptune-minio-bucket');
    const config = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ptune-config-')) as K8sObject;
    const endpoint = new URL(String(get(config, 'data', 'S3_ENDPOINT')));
    expect(endpoint.hostname).toBe('ptune-minio');
    expect(minioPorts.map((p) => p.port)).toContain(Number(endpoint.port));
    expect(get(config, 'data', 'S3_FORCE_PATH_STYLE')).toBe('true');
    const url = find(all, 'Secret', all.find((o) => o.metadata.name.startsWith('ptune-database-'))?.metadata.name ?? '');
    expect(new URL(decode(String(get(url, 'data', 'url')))).hostname).toBe('ptune-postgres');
  });
});

describe('built-in kustomize renderer', () => {
  it('hashes generated names as kustomize 5 does (known answers from kubectl 1.32 / kustomize 5.5.0)', () => {
    expect(kustomizeNameHash({ kind: 'ConfigMap', data: { a: 'b' } })).toBe('4h2mbtbbt6');
    expect(kustomizeNameHash({ kind: 'Secret', type: 'Opaque', data: { a: 'Yg==' } })).toBe('k695gkmbtk');
  });

  it('wraps long Secret values at 70 base64 characters like kustomize', () => {
    expect(kustomizeBase64('short')).toBe('c2hvcnQ=');
    const long = kustomizeBase64('x'.repeat(60));
    expect(long.split('\n').map((l) => l.length)).toEqual([70, 10, 0]);
    expect(decode(long)).toBe('x'.repeat(60));
  });

  it('rejects kustomize fields outside the subset it implements, naming the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ptune-kustomize-'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'commonLabels:\n  a: b\n');
    expect(() => buildKustomization(dir)).toThrow(/field 'commonLabels' is outside the kustomize subset/);
  });

  it.runIf(kubectlVersion !== undefined)(
    `renders every target exactly as kubectl kustomize${kubectlVersion ? '' : ' (skipped: no kubectl with kustomize >= 4 installed)'}`,
    () => {
      for (const target of targets) {
        const dir = path.join(k8sDir, target);
        const ours = new Map(buildKustomization(dir).map((o) => [objectKey(o), o]));
        const theirs = new Map(renderWithKubectl(dir).map((o) => [objectKey(o), o]));
        expect([...ours.keys()].sort(), target).toEqual([...theirs.keys()].sort());
        for (const [key, object] of ours) expect(object, `${target} ${key}`).toEqual(theirs.get(key));
      }
    },
  );
});
