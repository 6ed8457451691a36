/**
 * Inference benchmark (`npm run bench:inference`), stories260K and a generated ~100M model
 * (bench85m: 12 × 768, vocab 32000) side by side, 2 threads everywhere:
 * - mixed-task throughput: 64 concurrent streams over 32 prompt versions vs the same 64 on one
 *   version (8 virtual tokens each, every version's prefix cached before timing), ratio;
 * - decode tokens/s of a batch of 8 greedy streams vs PyTorch eager greedy decoding with a key/value
 *   cache on the same weights, batch and threads (torch_decode.py; the first row's ids must agree);
 * - time to first token of a request alone with its version's prefix cold vs warm, 20 and 100
 *   virtual tokens (medians over 3 versions);
 * - tokens/s of the OpenAI-compatible HTTP endpoint vs gRPC at the same load (16 streams).
 * Options: `-- 260k` or `-- 85m` for one model; BENCH_ROUNDS (default 2); BENCH_WEIGHTS, the
 * precision our engine holds the weights in (default f32, as PyTorch's side; `auto` keeps the
 * file's: bench85m is an f16 GGUF, widened per use in every step).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel, writeGeneratedModel, type LoadedModel } from '../../services/engine/index.js';
import { stories260K } from '../../services/engine/model/stories260k-fixture.js';
import { weightsDtypes, type WeightsDtype } from '../../services/engine/model/weights-dtype.js';
import { decodeRate, mixedThroughput, timeToFirstToken, type DecodeResult, type MixedResult, type TtftResult } from './engine-load.js';
import { torchDecode, type TorchDecode } from './torch-decode.js';
import { httpVsGrpc, type TransportResult } from './transport-load.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const only = process.argv[2];
const weights = (process.env.BENCH_WEIGHTS ?? 'f32') as WeightsDtype;
if (!weightsDtypes.includes(weights)) throw new Error(`BENCH_WEIGHTS=${weights}: expected one of ${weightsDtypes.join(', ')}`);

interface Case {
  name: string;
  file: () => Promise<string>;
  /** new tokens per stream in the throughput runs, per stream in the decode run */
  tokens: number;
  decodeTokens: number;
}

interface Row {
  name: string;
  mixed: MixedResult;
  ours: DecodeResult;
  torch: TorchDecode;
  ttft: TtftResult[];
  transport: TransportResult;
}

const dir = mkdtempSync(path.join(tmpdir(), 'ptune-bench-inference-'));
const cases: Case[] = [
  ...(stories260K.available ? [{ name: 'stories260K', file: async () => stories260K.ggufPath, tokens: 32, decodeTokens: 64 }] : []),
  {
    name: 'bench85m',
    file: async () => (await writeGeneratedModel('bench85m', 0, path.join(dir, 'bench85m.gguf'))).path,
    tokens: 16,
    decodeTokens: 16,
  },
].filter((c) => only === undefined || c.name.toLowerCase().includes(only.toLowerCase()));
if (!stories260K.available) process.stderr.write(`stories260K skipped: ${stories260K.skipReason}\n`);

const log = (text: string) => process.stderr.write(`${text}\n`);
const rows: Row[] = [];
try {
  for (const c of cases) {
    const file = await c.file();
    const model: LoadedModel = await loadModel(file, weights);
    log(`${c.name}: mixed-task throughput…`);
    const mixed = await mixedThroughput(model, { slots: 16, tokens: c.tokens, rounds });
    log(`${c.name}: decode, ours then PyTorch…`);
    const ours = await decodeRate(model, { batch: 8, tokens: c.decodeTokens, rounds });
    const torch = torchDecode(model, path.join(dir, `${c.name}-decode.safetensors`), { batch: 8, tokens: c.decodeTokens, rounds });
    log(`${c.name}: time to first token…`);
    const ttft = [await timeToFirstToken(model, 20, 3), await timeToFirstToken(model, 100, 3)];
    log(`${c.name}: HTTP vs gRPC…`);
    const transport = await httpVsGrpc(model, file, { streams: 16, tokens: c.tokens, slots: 16, rounds });
    rows.push({ name: c.name, mixed, ours, torch, ttft, transport });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const f = (x: number, d = 1) => x.toFixed(d);
const cell = (pick: (r: Row) => string) => rows.map(pick).join(' | ');
const lines = [
  `| measure | ${rows.map((r) => r.name).join(' | ')} |`,
  `| --- |${rows.map(() => ' --- |').join('')}`,
  `| mixed-task tokens/s: 64 streams over 32 versions / on 1 version → ratio (target ≥ 0.95) | ${cell((r) => `${f(r.mixed.mixed)} / ${f(r.mixed.single)} → ${f(r.mixed.mixed / r.mixed.single, 2)}`)} |`,
  `| decode tokens/s, batch 8: ours / PyTorch eager + KV cache → ratio (target ≥ 1.5) | ${cell((r) => `${f(r.ours.tokensPerSecond)} / ${f(r.torch.decodeTokensPerSecond)} → ${f(r.ours.tokensPerSecond / r.torch.decodeTokensPerSecond, 2)}`)} |`,
  `| greedy ids equal PyTorch's (first row) | ${cell((r) => (JSON.stringify(r.ours.firstRowIds) === JSON.stringify(r.torch.firstRowIds) ? 'yes' : 'NO'))} |`,
  ...[0, 1].map(
    (i) =>
      `| time to first token, ${rows[0]?.ttft[i].virtualTokens} virtual tokens: prefix cold / warm (ms) | ${cell((r) => `${f(r.ttft[i].coldMs)} / ${f(r.ttft[i].warmMs)}`)} |`,
  ),
  `| tokens/s at 16 streams: HTTP (SSE) / gRPC → ratio (target ≥ 0.9) | ${cell((r) => `${f(r.transport.http)} / ${f(r.transport.grpc)} → ${f(r.transport.http / r.transport.grpc, 2)}`)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
process.stdout.write(
  `${new Date().toISOString()}; our weights held ${weights}; PyTorch ${rows[0]?.torch.torch ?? '-'} (BLAS ${rows[0]?.torch.blas ?? '-'}); ${rounds} rounds, best of each; load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}\n`,
);
