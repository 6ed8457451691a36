/**
 * Where our training step spends its time: runs the case's training graph with onnxruntime's
 * profiler on and prints the total time per op type (and the top single nodes).
 *   npx tsx bench/engine/profile-step.ts 260k|85m|<family>   (a family: its bench preset, as train-step.ts --family)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildTrainingGraph, promptTuning } from '../../services/engine/graph/decoder-graph.js';
import { serializeModel } from '../../services/engine/graph/serialize.js';
import { bench85mCase, familyCase, stories260KCase, THREADS, VIRTUAL_TOKENS } from './cases.js';
import { decoderModelFromLlama } from '../../services/engine/model/llama.js';
import { loadModel } from '../../services/engine/model/load-model.js';
import { families, type Family } from '../../services/engine/model/spec.js';
import type { DecoderModel } from '../../services/engine/model/weights.js';

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

const which = process.argv[2] ?? '260k';
if (!['260k', '85m', ...families].includes(which)) throw new Error(`${which}: not a case (260k, 85m or one of ${families.join(', ')})`);
const folders = mkdtempSync(path.join(tmpdir(), 'ptune-profile-model-'));
const c = which === '85m' ? bench85mCase() : which === '260k' ? await stories260KCase() : await familyCase(which as Family, folders, 0);
const model: DecoderModel = 'hfFolder' in c ? await loadModel(c.hfFolder) : decoderModelFromLlama(c.weights);
rmSync(folders, { recursive: true, force: true });
const built = buildTrainingGraph(model, {
  batch: c.batch,
  seqLen: c.seqLen,
  virtualTokens: promptTuning(VIRTUAL_TOKENS),
  withPredictions: false,
}); // as PromptRunner.train
const session = await ort.InferenceSession.create(serializeModel(built.graph), {
  intraOpNumThreads: THREADS,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } }, // as GraphSession does
  enableProfiling: true,
  profileFilePrefix: path.join(tmpdir(), `ptune-profile-${which}`),
});
const feeds = {
  tokens: new ort.Tensor('int64', c.tokens, [c.batch, c.seqLen]),
  loss_mask: new ort.Tensor('float32', c.lossMask, [c.batch, c.seqLen]),
  prompt_embeddings: new ort.Tensor('float32', c.prompt, [VIRTUAL_TOKENS, model.spec.dim]),
};
const runs = which === '260k' ? 20 : 3;
const wall: number[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  await session.run(feeds);
  wall.push(performance.now() - started);
}
session.endProfiling(); // writes <prefix>_<timestamp>.json
const prefix = `ptune-profile-${which}`;
const name = readdirSync(tmpdir())
  .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
  .sort()
  .at(-1);
if (!name) throw new Error(`onnxruntime wrote no profile ${prefix}*.json in ${tmpdir()}`);
const file = path.join(tmpdir(), name);
const events = (JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[]).filter(
  (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
);
rmSync(file, { force: true });

const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
const kernels = new Map<string, Set<string>>(); // op type → node names
for (const e of events) {
  if (!kernels.has(e.args?.op_name ?? '?')) kernels.set(e.args?.op_name ?? '?', new Set());
  kernels.get(e.args?.op_name ?? '?')!.add(e.name);
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  byNode.set(`${op} ${e.name.replace(/_kernel_time$/, '')}`, (byNode.get(`${op} ${e.name.replace(/_kernel_time$/, '')}`) ?? 0) + e.dur);
}
const total = [...byOp.values()].reduce((a, b) => a + b, 0);
const table = (m: Map<string, number>, n: number): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / runs / 1000).toFixed(2).padStart(8)} ms/step  ${k}${kernels.has(k) ? ` (${kernels.get(k)!.size} kernels)` : ''}`,
    )
    .join('\n');
process.stdout.write(
  `${which}: ${(total / runs / 1000).toFixed(1)} ms of kernel time per step in ${[...kernels.values()].reduce((n, k) => n + k.size, 0)} kernels, wall ${wall.map((w) => w.toFixed(0)).join(', ')} ms (${runs} runs)\n\nby op type:\n${table(byOp, 15)}\n\ntop nodes:\n${table(byNode, 12)}\n`,
);
await session.release();
