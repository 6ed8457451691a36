/**
 * Method comparison on stories260K: prompt tuning, P-tuning (MLP encoder) and prefix tuning on the
 * two example tasks (examples/feelings, examples/names) at equal steps, batch, seed, virtual tokens
 * and threads. Per run: held-out loss and first-output-token accuracy before/after, trainable
 * parameters, stored bytes (the prompt file as written), step time. Prints a markdown table.
 * Step time is measured apart from the quality runs, because other work on the machine swings it:
 * every method runs 20 steps per round, interleaved, for 5 rounds; the table shows the lowest of
 * the per-round medians (the least disturbed round).
 *   npm run bench:methods                               (300 steps, all methods)
 *   npm run bench:methods -- --steps 100 --extra        (also P-tuning LSTM and prefix projection)
 * Each method has its own constant learning rate (printed in the table), picked once by the lowest
 * training loss (mean of the last 20 of 150 steps) on feelings: prompt tuning from {0.01, 0.03, 0.1}
 * (0.03 and 0.1 tied; 0.03 kept, as examples/README uses it), P-tuning MLP from {0.001, 0.003, 0.01,
 * 0.03}, prefix tuning (sample-vocab init) from {0.01, 0.03, 0.1}. The --extra encoders reuse
 * P-tuning's 0.01 unswept.
 */
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  encodePromptFile,
  loadExampleSet,
  loadGguf,
  parsePromptInit,
  promptMetadata,
  train,
  type MethodOptions,
  type TrainResult,
} from '../../services/engine/index.js';
import { defaultInitFor } from '../../services/engine/methods/index.js';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    'virtual-tokens': { type: 'string', default: '8' },
    'batch-size': { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
    extra: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
  },
});

interface Contender {
  label: string;
  method: MethodOptions;
  lr: number;
}

const contenders: Contender[] = [
  { label: 'prompt tuning', method: { method: 'prompt_tuning' }, lr: 0.03 },
  { label: 'P-tuning (MLP)', method: { method: 'p_tuning', encoder: 'mlp' }, lr: 0.01 },
  { label: 'prefix tuning', method: { method: 'prefix_tuning' }, lr: 0.1 },
  ...(args.extra
    ? [
        { label: 'P-tuning (LSTM)', method: { method: 'p_tuning', encoder: 'lstm' }, lr: 0.01 } as Contender,
        { label: 'prefix (projection)', method: { method: 'prefix_tuning', prefixProjection: true }, lr: 0.01 } as Contender,
      ]
    : []),
];
const tasks = ['feelings', 'names'];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (!stories260K.available) {
  process.stderr.write(`bench:methods needs ${stories260K.ggufPath}: ${stories260K.skipReason}\n`);
  process.exit(1);
}

const steps = Number(args.steps);
const P = Number(args['virtual-tokens']);
const batchSize = Number(args['batch-size']);
const threads = Number(args.threads);
const seed = Number(args.seed);
const model = await loadGguf(stories260K.ggufPath);

const loadBefore = loadavg()[0];
const rows: string[] = [];

/** Lowest per-round median step time of each contender on a task, rounds interleaved across contenders. */
async function stepTimes(trainSet: Awaited<ReturnType<typeof loadExampleSet>>): Promise<number[]> {
  const best = contenders.map(() => Infinity);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const [i, c] of contenders.entries()) {
      const r = await train({
        model,
        train: trainSet,
        virtualTokens: P,
        method: c.method,
        init: parsePromptInit(defaultInitFor(c.method)),
        steps: 21,
        lr: c.lr,
        batchSize,
        seed: seed + round,
        threads,
      });
      best[i] = Math.min(best[i], median(r.stepMs.slice(1))); // the first step also builds the session
    }
  }
  return best;
}
for (const task of tasks) {
  const trainSet = await loadExampleSet(path.join(repo, 'examples', task, 'train.jsonl'), model, P);
  const evalSet = await loadExampleSet(path.join(repo, 'examples', task, 'eval.jsonl'), model, P);
  const times = await stepTimes(trainSet);
  for (const [i, c] of contenders.entries()) {
    const r: TrainResult = await train({
      model,
      train: trainSet,
      eval: evalSet,
      virtualTokens: P,
      method: c.method,
      init: parsePromptInit(defaultInitFor(c.method)),
      steps,
      lr: c.lr,
      batchSize,
      seed,
      threads,
    });
    const trainable = Object.values(r.params).reduce((n, p) => n + p.length, 0);
    const storedBytes = encodePromptFile(
      r.promptEmbeddings,
      r.dim,
      promptMetadata(r.identity, r.dim, r.evalBefore, r.evalAfter),
    ).byteLength;
    const b = r.evalBefore!;
    const a = r.evalAfter!;
    rows.push(
      `| ${task} | ${c.label} | ${c.lr} | ${b.loss.toFixed(3)} → **${a.loss.toFixed(3)}** | ${b.firstTokenAccuracy.toFixed(3)} → **${a.firstTokenAccuracy.toFixed(3)}** | ` +
        `${trainable.toLocaleString('en-US')} | [${P}, ${r.dim}] ${storedBytes.toLocaleString('en-US')} | ${times[i].toFixed(1)} |`,
    );
    process.stderr.write(`${task} / ${c.label}: done\n`);
  }
}

process.stdout.write(
  `stories260K, ${steps} steps, ${P} virtual tokens, batch ${batchSize}, seed ${seed}, ${threads} threads, AdamW constant lr, grad clip 1\n` +
    // step times are only comparable on an otherwise idle machine
    `1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end\n\n` +
    '| task | method | lr | held-out loss before → after | first-token accuracy before → after | trainable parameters | stored tensor, file bytes | step ms |\n' +
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
    rows.join('\n') +
    '\n',
);
