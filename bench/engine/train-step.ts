/**
 * Training-step benchmark: one prompt-tuning step (forward + backward w.r.t. the prompt + clipping
 * + AdamW) of ours (onnxruntime-node) against a PyTorch eager implementation of the same step, on
 * the same inputs (a case file both read), with the same thread count, in one run.
 *   npm run bench:engine            (both sizes)
 *   npm run bench:engine -- 260k    (only stories260K; or 85m)
 * Installs Debian's python3-torch and libopenblas0-pthread with apt when missing (without
 * OpenBLAS, Debian's torch uses the reference BLAS and the comparison would mean nothing), and
 * prints both sides' 512³ MatMul GFLOP/s so the set-up can be judged.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLlama, presets } from '../../services/engine/model/generate.js';
import { loadGguf } from '../../services/engine/model/gguf.js';
import { Rng } from '../../services/engine/model/rng.js';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';
import { loadExampleSet } from '../../services/engine/train/example-set.js';
import { promptFromTokenRows, sampleVocabTokenIds } from '../../services/engine/train/prompt-init.js';
import { encodeCase, type StepCase, type StepSettings } from './case-file.js';
import { promptStepFlops } from './flops.js';
import { ortMatmulGflops } from './ort-matmul.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const THREADS = 2;
const VIRTUAL_TOKENS = 8;
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

function runJson(command: string, args: string[]): Record<string, number> {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: String(THREADS) } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

function prompt(c: Pick<StepCase, 'weights'>, rng: Rng): Float32Array {
  return promptFromTokenRows(sampleVocabTokenIds(VIRTUAL_TOKENS, c.weights.config.vocabSize, rng), c.weights.tokenEmbedding);
}

const settings = (repeats: number, warmup: number): StepSettings => ({ threads: THREADS, lr: 0.03, weightDecay: 0, gradClip: 1, warmup, repeats });

/** stories260K, batch 16 of the feelings example task (its real lengths, padded per the data layer) */
async function stories260KCase(): Promise<StepCase> {
  const model = await loadGguf(stories260K.ggufPath);
  const set = await loadExampleSet(path.join(repo, 'examples/feelings/train.jsonl'), model, VIRTUAL_TOKENS);
  const b = set.batch(Array.from({ length: 16 }, (_, i) => i * 7), 16);
  return { weights: model.weights, batch: 16, seqLen: b.seqLen, tokens: b.tokens, lossMask: b.lossMask, prompt: prompt(model, Rng.fromSeed(0)), step: settings(30, 5) };
}

/** the generated bench85m preset, batch 4 × 128 tokens (BOS + random ids), the last 16 tokens predicted */
function bench85mCase(): StepCase {
  const weights = generateLlama(presets.bench85m.config, 0, { tiedClassifier: presets.bench85m.tiedClassifier });
  const rng = Rng.fromSeed(1);
  const B = 4;
  const T = 128;
  const tokens = BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i % T === 0 ? 1 : 3 + rng.nextInt(weights.config.vocabSize - 3)));
  const lossMask = Float32Array.from({ length: B * T }, (_, i) => (i % T >= T - 16 ? 1 : 0));
  return { weights, batch: B, seqLen: T, tokens, lossMask, prompt: prompt({ weights }, rng), step: settings(8, 2) };
}

interface Row {
  name: string;
  shape: string;
  ours: Record<string, number>;
  torch: Record<string, number>;
  flops: number;
}

async function measure(name: string, make: () => StepCase | Promise<StepCase>, dir: string): Promise<Row> {
  const c = await make();
  const file = path.join(dir, `${name}.safetensors`);
  writeFileSync(file, encodeCase(c));
  const flops = promptStepFlops(c.weights.config, c.batch, c.seqLen, VIRTUAL_TOKENS);
  const shape = `B=${c.batch} T=${c.seqLen} P=${VIRTUAL_TOKENS}`;
  process.stderr.write(`${name}: ours…\n`);
  const ours = runJson(process.execPath, ['--import', 'tsx', path.join(here, 'our-step.ts'), file]);
  process.stderr.write(`${name}: pytorch…\n`);
  const torch = runJson(PYTHON, [path.join(here, 'torch_step.py'), file]);
  return { name, shape, ours, torch, flops };
}

const only = process.argv[2];
ensurePyTorch();
const dir = mkdtempSync(path.join(tmpdir(), 'ptune-bench-'));
try {
  const ortPeak = await ortMatmulGflops(THREADS);
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
    '| model | batch | ours ms | PyTorch ms | ours/PyTorch | ours peak RSS MB | PyTorch peak RSS MB | ours GFLOP/s (of peak) | step-0 loss ours / PyTorch |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const gflops = r.flops / (r.ours.step_ms_median / 1000) / 1e9;
    lines.push(
      `| ${r.name} | ${r.shape} | ${r.ours.step_ms_median.toFixed(1)} | ${r.torch.step_ms_median.toFixed(1)} | ` +
        `${(r.ours.step_ms_median / r.torch.step_ms_median).toFixed(2)} | ${r.ours.peak_rss_mb.toFixed(0)} | ${r.torch.peak_rss_mb.toFixed(0)} | ` +
        `${gflops.toFixed(1)} (${((100 * gflops) / ortPeak).toFixed(0)}%) | ${r.ours.first_loss.toFixed(4)} / ${r.torch.first_loss.toFixed(4)} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
