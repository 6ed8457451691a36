import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout this code runs from (the folder whose package.json is ptune's), found by walking up:
 * the same module runs from `services/` under tsx and from `dist/services/` when built.
 */
export function findRepoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'ptune') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no ptune package.json above ${from}: run ptune from its repository checkout`);
  }
}
