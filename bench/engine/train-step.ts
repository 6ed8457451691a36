/**
 * Training-step benchmark: one prompt-tuning step (forward + backward w.r.t. the prompt + clipping
 * + AdamW) of ours (onnxruntime-node) against a PyTorch eager implementation of the same step, on
 * the same inputs (a case file both read), with the same thread count, in one run.
 *   npm run bench:engine            (both sizes)
 *   npm run bench:engine -- 260k    (only stories260K; or 85m)
 * Installs Debian's python3-torch and libopenblas0-pthread with apt when missing (without
 * OpenBLAS, Debian's torch uses the reference BLAS and the comparison would mean nothing), and
 * prints both sides' 512³ MatMul GFLOP/s so the set-up can be judged. Each side runs in its own
 * process (so peak RSS is its own), alternating, best median of 3 rounds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';
import { encodeCase, type StepCase } from './case-file.js';
import { bench85mCase, stories260KCase, THREADS, VIRTUAL_TOKENS } from './cases.js';
import { promptStepFlops } from './flops.js';
import { ortMatmulGflops } from './ort-matmul.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';

function ensurePyTorch(): void {
  const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  const hasOpenBlas = spawnSync('dpkg', ['-s', 'libopenblas0-pthread'], { stdio: 'ignore' }).status === 0;
  if (hasTorch && hasOpenBlas) return;
  process.stderr.write('installing python3-torch and libopenblas0-pthread with apt…\n');
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', 'python3-torch', 'libopenblas0-pthread'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * PyTorch's OpenMP threads spin while waiting by default; on 2 cores shared with OpenBLAS's own
 * threads (and any other load) that spinning steals the cores and made its step up to 20× slower
 * here, so both children run with passive OpenMP waiting, PyTorch's best setting here (onnxruntime does not use OpenMP).
 */
const childEnv = { ...process.env, OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS), OMP_WAIT_POLICY: 'PASSIVE' };

function runJson(command: string, args: string[]): Record<string, number> {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: childEnv });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

interface Row {
  name: string;
  shape: string;
  ours: Record<string, number>;
  torch: Record<string, number>;
  flops: number;
}

/** rounds alternate ours and PyTorch; each side keeps its best median, which other load on the machine inflates least */
const ROUNDS = 3;

async function measure(name: string, make: () => StepCase | Promise<StepCase>, dir: string): Promise<Row> {
  const c = await make();
  const file = path.join(dir, `${name}.safetensors`);
  writeFileSync(file, encodeCase(c));
  const flops = promptStepFlops(c.weights.config, c.batch, c.seqLen, VIRTUAL_TOKENS);
  const shape = `B=${c.batch} T=${c.seqLen} P=${VIRTUAL_TOKENS}`;
  let ours: Record<string, number> | undefined;
  let torch: Record<string, number> | undefined;
  const best = (a: Record<string, number> | undefined, b: Record<string, number>): Record<string, number> =>
    a && a.step_ms_median <= b.step_ms_median ? a : b;
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`${name}: round ${round}/${ROUNDS}: ours…\n`);
    ours = best(ours, runJson(process.execPath, ['--import', 'tsx', path.join(here, 'our-step.ts'), file]));
    process.stderr.write(`${name}: round ${round}/${ROUNDS}: pytorch…\n`);
    torch = best(torch, runJson(PYTHON, [path.join(here, 'torch_step.py'), file]));
  }
  return { name, shape, ours: ours!, torch: torch!, flops };
}

const only = process.argv[2];
ensurePyTorch();
const dir = mkdtempSync(path.join(tmpdir(), 'ptune-bench-'));
try {
  const ortPeak = await ortMatmulGflops(THREADS);
  process.stderr.write(`onnxruntime 512³ MatMul: ${ortPeak.toFixed(1)} GFLOP/s\n`);
  const rows: Row[] = [];
  if (only !== '85m') {
    if (stories260K.available) rows.push(await measure('stories260K', stories260KCase, dir));
    else process.stderr.write(`skipping stories260K: ${stories260K.skipReason}\n`);
  }
  if (only !== '260k') rows.push(await measure('bench85m', bench85mCase, dir));
  const torchPeak = rows[0]?.torch.matmul512_gflops;
  const lines = [
    `threads ${THREADS}; 512³ MatMul: onnxruntime ${ortPeak.toFixed(1)} GFLOP/s, PyTorch ${torchPeak?.toFixed(1) ?? '-'} GFLOP/s (torch ${rows[0]?.torch.torch ?? '-'})`,
    '',
    '| model | batch | ours ms | PyTorch ms | ours/PyTorch | ours peak RSS MB | PyTorch peak RSS MB | ours GFLOP/s (of peak) | step-0 loss ours / PyTorch | step-0 grad norm ours / PyTorch |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const gflops = r.flops / (r.ours.step_ms_median / 1000) / 1e9;
    lines.push(
      `| ${r.name} | ${r.shape} | ${r.ours.step_ms_median.toFixed(1)} | ${r.torch.step_ms_median.toFixed(1)} | ` +
        `${(r.ours.step_ms_median / r.torch.step_ms_median).toFixed(2)} | ${r.ours.peak_rss_mb.toFixed(0)} | ${r.torch.peak_rss_mb.toFixed(0)} | ` +
        `${gflops.toFixed(1)} (${((100 * gflops) / ortPeak).toFixed(0)}%) | ${r.ours.first_loss.toFixed(4)} / ${r.torch.first_loss.toFixed(4)} | ` +
        `${r.ours.first_grad_norm.toFixed(5)} / ${r.torch.first_grad_norm.toFixed(5)} |`,
    );
  }
  const targets: Record<string, number> = { stories260K: 0.5, bench85m: 1.0 };
  for (const r of rows) {
    const ratio = r.ours.step_ms_median / r.torch.step_ms_median;
    lines.push(`${r.name}: ours/PyTorch ${ratio.toFixed(2)}, target ≤ ${targets[r.name]}: ${ratio <= targets[r.name] ? 'met' : 'MISSED'}`);
  }
  lines.push('', `load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (timings are only meaningful on an idle machine)`);
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
