import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findRepoRoot } from '../quickstart/repo-root.js';

/** The "version" of ptune's package.json (the CLI runs from a checkout, from source or from dist/). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(findRepoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
