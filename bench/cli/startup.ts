/**
 * CLI start-up benchmark (`npm run bench:cli`; run `npm run build` first: bin/ptune.js runs dist/).
 * Each command line is started RUNS times in a fresh `node` (the Node running this script, i.e. the
 * pinned Node 24 under npm), in a rotating order, and the median wall time is printed beside
 * `node -e 0` measured the same way in the same run, so the figure is what ptune adds to a bare Node
 * start on this machine at this moment. Help output exits before any network call, so the client
 * commands measure loading only; `serve --help` loads the server stack for contrast.
 * Env: BENCH_RUNS (default 15).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const bin = path.join(root, 'bin/ptune.js');

const LINES: { label: string; args: string[] }[] = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'ptune --version', args: [bin, '--version'] },
  { label: 'ptune prompts list --help', args: [bin, 'prompts', 'list', '--help'] },
  { label: 'ptune jobs list --help', args: [bin, 'jobs', 'list', '--help'] },
  { label: 'ptune alias set --help', args: [bin, 'alias', 'set', '--help'] },
  { label: 'ptune train --help', args: [bin, 'train', '--help'] },
  { label: 'ptune tokens list --help', args: [bin, 'tokens', 'list', '--help'] },
  { label: 'ptune serve --help (server stack)', args: [bin, 'serve', '--help'] },
];

function startOnce(args: readonly string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const times = LINES.map(() => [] as number[]);
for (let round = 0; round < RUNS; round++) {
  for (let k = 0; k < LINES.length; k++) {
    const i = (k + round) % LINES.length;
    times[i].push(startOnce(LINES[i].args));
  }
}
const bare = median(times[0]);
console.log(`CLI start-up, median of ${RUNS} runs (node ${process.version}, load ${loadavg()[0].toFixed(2)})`);
console.log('command'.padEnd(38), 'median s'.padStart(9), 'over node -e 0'.padStart(15));
LINES.forEach((line, i) => {
  const m = median(times[i]);
  console.log(line.label.padEnd(38), (m / 1000).toFixed(3).padStart(9), (i === 0 ? '' : `+${((m - bare) / 1000).toFixed(3)}`).padStart(15));
});
