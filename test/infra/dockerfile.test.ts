/**
 * There is no Docker engine here, so the image is never built in tests: this checks the
 * Dockerfile's structure (stages, flavour switch, non-root user, entrypoint) and the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lacksMallocTunables, MALLOC_TUNABLES } from '../../services/engine/memory/malloc-tunables.js';
import { parseDockerfile, type Stage } from './dockerfile.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
const ignored = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

function stage(name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage named ${name} (stages: ${dockerfile.stages.map((s) => s.name).join(', ')})`);
  return found;
}
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const final = dockerfile.stages[dockerfile.stages.length - 1];

describe('Dockerfile', () => {
  it('builds on node:24-bookworm-slim: npm ci, then npm run build, then npm prune --omit=dev', () => {
    const build = stage('build');
    expect(build.image).toBe('node:24-bookworm-slim');
    const steps = runs(build);
    const at = (pattern: RegExp) => steps.findIndex((r) => pattern.test(r));
    expect(at(/\bnpm ci\b/)).toBeGreaterThanOrEqual(0);
    expect(at(/\bnpm run build\b/)).toBeGreaterThan(at(/\bnpm ci\b/));
    expect(at(/\bnpm prune --omit=dev\b/)).toBeGreaterThan(at(/\bnpm run build\b/));
  });

  it('ORT_FLAVOR (default cpu) installs the CUDA 12 onnxruntime-node build and picks the runtime base', () => {
    expect(dockerfile.globalArgs.get('ORT_FLAVOR')).toBe('cpu');
    const build = stage('build');
    // A global ARG is only visible inside a stage that declares it again.
    expect(build.instructions.some((i) => i.keyword === 'ARG' && i.args === 'ORT_FLAVOR')).toBe(true);
    expect(runs(build).some((r) => r.includes('$ORT_FLAVOR') && r.includes('--onnxruntime-node-install=cuda12'))).toBe(true);
    expect(final.from).toBe('runtime-${ORT_FLAVOR}');
    expect(stage('runtime-cpu').image).toBe('node:24-bookworm-slim');
    const cuda = stage('runtime-cuda');
    expect(cuda.image).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-/);
    expect(
      cuda.instructions.some((i) => i.keyword === 'COPY' && i.args.includes('--from=build') && i.args.includes('/usr/local/bin/node')),
    ).toBe(true);
  });

  it('the runtime stage copies the built app from the build stage and runs as uid 10001', () => {
    const copied = final.instructions
      .filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build '))
      .map((i) => i.args.split(' ')[1]);
    expect(copied.sort()).toEqual([
      '/app/bin',
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
      '/app/prisma',
      '/app/services/console/assets',
    ]);
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    expect(users.map((u) => u.args)).toEqual(['10001:10001']);
    const userAt = final.instructions.indexOf(users[0]);
    expect(
      final.instructions.slice(userAt).some((i) => i.keyword === 'RUN'),
      'no RUN after USER',
    ).toBe(false);
  });

  it('runs `node bin/ptune.js` with `coordinator` as the default command', () => {
    const entrypoint = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT');
    const cmd = final.instructions.filter((i) => i.keyword === 'CMD');
    expect(entrypoint.map((i) => JSON.parse(i.args) as unknown)).toEqual([['node', 'bin/ptune.js']]);
    expect(cmd.map((i) => JSON.parse(i.args) as unknown)).toEqual([['coordinator']]);
  });

  it("sets ptune's glibc malloc setting, so bin/ptune.js runs the CLI in its own process", () => {
    const env = final.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env.join(' ')).toContain(`GLIBC_TUNABLES=${MALLOC_TUNABLES}`);
    expect(lacksMallocTunables({ GLIBC_TUNABLES: MALLOC_TUNABLES }, 'linux')).toBe(false);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    for (const s of dockerfile.stages) {
      for (const copy of s.instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))) {
        const sources = copy.args
          .split(' ')
          .slice(0, -1)
          .filter((a) => a !== '.');
        for (const source of sources) {
          expect(existsSync(path.join(repoRoot, source)), `COPY ${source} (line ${copy.line})`).toBe(true);
          expect(ignored, `COPY ${source} is dockerignored`).not.toContain(source);
        }
      }
    }
  });

  it('.dockerignore keeps local builds and installs out, and the build inputs in', () => {
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
    for (const input of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.json',
      'services',
      'proto',
      'prisma',
      'bin',
      'buf.gen.yaml',
      'prisma.config.ts',
    ]) {
      expect(ignored, input).not.toContain(input);
    }
  });
});
