import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHfModel } from '../../../engine/model/hf/generate-hf.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const runner = path.join(here, 'run-cli.ts');
// the tsx loader by absolute URL: the commands run with the temporary folder as working directory
const tsx = pathToFileURL(path.resolve(here, '../../../../node_modules/tsx/dist/loader.mjs')).href;
let dir: string;
let model: string;
let trainFile: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function ptune(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', tsx, runner, ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const lines = (rows: { input: string; output: string }[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ptune-cli-'));
  model = path.join(dir, 'tiny.gguf');
  trainFile = path.join(dir, 'train.jsonl');
  const rows = ['the dog ran', 'a cat sat', 'the sun was hot', 'they played'].map((input) => ({ input, output: ' happy' }));
  await writeFile(trainFile, lines(rows));
  const made = await ptune('models', 'generate', '--preset', 'tiny', '--seed', '1', '--out', model);
  expect(made.code, made.stderr).toBe(0);
  expect(made.stdout).toMatch(/preset tiny, seed 1, \d+ parameters/);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tuneArgs = (overrides: Record<string, string> = {}): string[] =>
  Object.entries({
    '--model': model,
    '--train': trainFile,
    '--eval': trainFile,
    '--virtual-tokens': '2',
    '--init': 'sample-vocab',
    '--steps': '3',
    '--lr': '0.05',
    '--batch-size': '2',
    '--seed': '0',
    '--out': 'p.safetensors',
    '--threads': '1',
    ...overrides,
  }).flat();

describe('ptune tune / eval / generate', () => {
  it('tunes, then evaluates and generates with the prompt it wrote', async () => {
    const tuned = await ptune('tune', ...tuneArgs({ '--peft-dir': 'peft' }), '--json');
    expect(tuned.code, tuned.stderr).toBe(0);
    const result = JSON.parse(tuned.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ steps: 3, out: 'p.safetensors', virtual_tokens: 2, peft_dir: 'peft' });
    for (const k of [
      'eval_loss_before',
      'eval_loss_after',
      'first_token_accuracy_before',
      'first_token_accuracy_after',
      'exact_match_before',
      'exact_match_after',
      'step_ms_median',
    ]) {
      expect(typeof result[k], k).toBe('number');
    }
    expect((await readdir(path.join(dir, 'peft'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);

    const evaluated = await ptune('eval', '--model', model, '--data', trainFile, '--prompt', 'p.safetensors', '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const metrics = JSON.parse(evaluated.stdout.trim());
    expect(metrics.eval_loss).toBeCloseTo(result.eval_loss_after, 5);
    expect(metrics.first_token_accuracy).toBe(result.first_token_accuracy_after);

    const generated = await ptune(
      'generate',
      '--model',
      model,
      '--prompt',
      'p.safetensors',
      '--text',
      'the dog',
      '--max-tokens',
      '3',
      '--json',
    );
    expect(generated.code, generated.stderr).toBe(0);
    expect(JSON.parse(generated.stdout).output_ids.length).toBeLessThanOrEqual(3);
  });

  it('--spin changes how threads wait, not the numbers: the same prompt bit for bit', async () => {
    const plain = await ptune('tune', ...tuneArgs({ '--out': 'plain.safetensors', '--threads': '2' }), '--json');
    const spun = await ptune('tune', ...tuneArgs({ '--out': 'spun.safetensors', '--threads': '2' }), '--spin', '--json');
    expect([plain.code, spun.code], plain.stderr + spun.stderr).toEqual([0, 0]);
    expect(Buffer.compare(await readFile(path.join(dir, 'plain.safetensors')), await readFile(path.join(dir, 'spun.safetensors')))).toBe(0);
  });

  it.each([
    ['p-tuning', ['--encoder', 'lstm', '--encoder-hidden-size', '8'], 'p_tuning', 32],
    ['prefix', ['--prefix-projection', '--encoder-hidden-size', '8'], 'prefix_tuning', 2 * 2 * 16],
  ])('--method %s trains, writes the stored tensor, and eval / generate serve it', async (method, extra, recorded, width) => {
    const out = `${method}.safetensors`;
    const { '--init': _init, ...rest } = Object.fromEntries(
      Array.from({ length: tuneArgs().length / 2 }, (_, i) => [tuneArgs()[2 * i], tuneArgs()[2 * i + 1]]),
    );
    const tuned = await ptune(
      'tune',
      ...Object.entries({ ...rest, '--out': out, '--peft-dir': `${method}-peft` }).flat(),
      '--method',
      method,
      ...extra,
      '--json',
    );
    expect(tuned.code, tuned.stderr).toBe(0);
    const result = JSON.parse(tuned.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ method: recorded, stored_shape: [2, width] });
    expect(result.trainable_parameters).toBeGreaterThan(2 * width);
    const config = JSON.parse(await readFile(path.join(dir, `${method}-peft`, 'adapter_config.json'), 'utf8'));
    expect(config.peft_type).toBe(recorded.toUpperCase());

    const evaluated = await ptune('eval', '--model', model, '--data', trainFile, '--prompt', out, '--json');
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout.trim())).toMatchObject({ method: recorded, virtual_tokens: 2 });
    expect(JSON.parse(evaluated.stdout.trim()).eval_loss).toBeCloseTo(result.eval_loss_after, 5);
    const generated = await ptune('generate', '--model', model, '--prompt', out, '--text', 'the dog', '--max-tokens', '3', '--json');
    expect(generated.code, generated.stderr).toBe(0);
  });

  it.each([
    ['--encoder without p-tuning', ['--encoder', 'mlp'], /--encoder applies to --method p-tuning only/],
    [
      '--prefix-projection without prefix',
      ['--method', 'p-tuning', '--prefix-projection'],
      /--prefix-projection applies to --method prefix only/,
    ],
    [
      'a token init for a projected prefix',
      ['--method', 'prefix', '--prefix-projection', '--init', 'sample-vocab'],
      /prefix projection starts from a random embedding: use --init random/,
    ],
  ])('rejects %s', async (_name, extra, message) => {
    const { '--init': _init, ...rest } = Object.fromEntries(
      Array.from({ length: tuneArgs().length / 2 }, (_, i) => [tuneArgs()[2 * i], tuneArgs()[2 * i + 1]]),
    );
    const run = await ptune('tune', ...Object.entries({ ...rest, '--out': 'rejected.safetensors' }).flat(), ...extra);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(await readdir(dir)).not.toContain('rejected.safetensors');
  });

  it.each([
    ['a missing model', { '--model': 'nope.gguf' }, /--model nope\.gguf does not exist/],
    ['zero virtual tokens', { '--virtual-tokens': '0' }, /--virtual-tokens.*expected an integer ≥ 1, got "0"/],
    ['a non-positive learning rate', { '--lr': '0' }, /--lr.*expected a number > 0, got "0"/],
    ['an unknown init', { '--init': 'vocab' }, /unknown init "vocab"/],
    [
      'examples longer than the context',
      { '--virtual-tokens': '254' },
      /train\.jsonl:1: example is \d+ tokens; with 254 virtual tokens the model's context of 256 allows 2/,
    ],
    [
      'an output folder that does not exist',
      { '--out': 'no/such/dir/rejected.safetensors' },
      /--out .*folder no\/such\/dir does not exist/,
    ],
  ])('rejects %s with a clear message, a non-zero exit, and no output', async (_name, overrides, message) => {
    const run = await ptune('tune', ...tuneArgs({ '--out': 'rejected.safetensors', ...overrides }));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(await readdir(dir)).not.toContain('rejected.safetensors');
  });

  it('tunes on a Hugging Face folder, and refuses one whose config.json asks for math ptune does not implement', async () => {
    const folder = path.join(dir, 'qwen3');
    await writeHfModel(folder, { family: 'qwen3', preset: 'tiny', seed: 1 });
    const tuned = await ptune('tune', ...tuneArgs({ '--model': folder, '--out': 'qwen3.safetensors' }));
    expect(tuned.code, tuned.stderr).toBe(0);
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...config, rope_scaling: { rope_type: 'dynamic', factor: 2 } }));
    const refused = await ptune('tune', ...tuneArgs({ '--model': folder, '--out': 'refused.safetensors' }));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/config\.json: rope_scaling.*"dynamic".*not supported/);
    expect(await readdir(dir)).not.toContain('refused.safetensors');
  });

  it('names the file and line of a malformed JSONL example', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    await writeFile(bad, '{"input": "a", "output": " b"}\n{"input": "a"\n');
    const run = await ptune('tune', ...tuneArgs({ '--train': bad, '--out': 'bad.safetensors' }));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${bad}:2: not valid JSON`);
    expect(await readdir(dir)).not.toContain('bad.safetensors');
  });

  it('eval rejects a prompt of the wrong width', async () => {
    const wrong = path.join(dir, 'wrong.safetensors');
    const header = JSON.stringify({ prompt_embeddings: { dtype: 'F32', shape: [1, 3], data_offsets: [0, 12] } });
    const bytes = Buffer.alloc(8 + header.length + 12);
    bytes.writeBigUInt64LE(BigInt(header.length), 0);
    bytes.write(header, 8);
    await writeFile(wrong, bytes);
    const run = await ptune('eval', '--model', model, '--data', trainFile, '--prompt', wrong);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /"prompt_embeddings" is \[1, 3\]; this model needs \[P, 32\] for virtual tokens or \[P, 64\] \(layers·2·kvDim\) for a prefix/,
    );
    expect((await readFile(wrong)).length).toBe(bytes.length);
  });
});

describe('--weights-dtype, --recompute, --max-memory', () => {
  it('refuses a run estimated above --max-memory before reading the model, saying what would fit', async () => {
    const tune = await ptune('tune', ...tuneArgs({ '--out': 'big.safetensors', '--max-memory': '100MiB', '--weights-dtype': 'q4' }));
    expect(tune.code).not.toBe(0);
    expect(tune.stderr).toMatch(
      new RegExp(
        `${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: this run needs an estimated \\d+ MiB — weights \\d+ KiB held as q4.*` +
          'activations \\d+ [KM]iB for 2 × \\d+ tokens.*more than the 100 MiB allowed by --max-memory.*--recompute → \\d+ MiB.*--batch-size 1',
      ),
    );
    expect(await readdir(dir)).not.toContain('big.safetensors');

    const evaluated = await ptune('eval', '--model', model, '--data', trainFile, '--max-memory', '0.05GiB');
    expect(evaluated.code).not.toBe(0);
    expect(evaluated.stderr).toMatch(/needs an estimated .* for 16 × \d+ tokens.*more than the 51 MiB allowed by --max-memory/);
    const generated = await ptune('generate', '--model', model, '--text', 'the dog', '--max-memory', '1000000');
    expect(generated.code).not.toBe(0);
    expect(generated.stderr).toMatch(/needs an estimated .* for 1 × \d+ tokens.*more than the 977 KiB allowed by --max-memory/);
  });

  it('--weights-dtype f16 reaches the engine: the weights are held in 16 bits, the loss moves by their rounding only', async () => {
    const loss = async (dtype: string): Promise<number> => {
      const run = await ptune('eval', '--model', model, '--data', trainFile, '--weights-dtype', dtype, '--max-memory', '8GiB', '--json');
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { eval_loss: number }).eval_loss;
    };
    const [f32, f16, auto] = [await loss('f32'), await loss('f16'), await loss('auto')];
    expect(auto).toBe(f32); // the file is f32
    expect(f16).not.toBe(f32);
    expect(Math.abs(f16 - f32)).toBeLessThan(1e-2);
  });

  it('--recompute trains the same prompt bit for bit (16-bit weights too)', async () => {
    const runs = await Promise.all(
      [
        ['kept.safetensors', []],
        ['recomputed.safetensors', ['--recompute']],
        ['kept16.safetensors', ['--weights-dtype', 'f16']],
        ['recomputed16.safetensors', ['--weights-dtype', 'f16', '--recompute']],
      ].map(([out, extra]) => ptune('tune', ...tuneArgs({ '--out': out as string }), ...(extra as string[]))),
    );
    expect(
      runs.map((r) => r.code),
      runs.map((r) => r.stderr).join(''),
    ).toEqual([0, 0, 0, 0]);
    const bytes = async (f: string): Promise<Buffer> => readFile(path.join(dir, f));
    expect(Buffer.compare(await bytes('kept.safetensors'), await bytes('recomputed.safetensors'))).toBe(0);
    expect(Buffer.compare(await bytes('kept16.safetensors'), await bytes('recomputed16.safetensors'))).toBe(0);
    expect(Buffer.compare(await bytes('kept.safetensors'), await bytes('kept16.safetensors'))).not.toBe(0);
  });

  it('rejects a dtype or size it does not know, naming what it takes', async () => {
    const dtype = await ptune('tune', ...tuneArgs({ '--weights-dtype': 'q5' }));
    expect(dtype.code).not.toBe(0);
    expect(dtype.stderr).toMatch(/--weights-dtype.*'q5' is invalid\. Allowed choices are auto, f32, f16, bf16, q8, q4/);
    const size = await ptune('generate', '--model', model, '--text', 'a', '--max-memory', '12XB');
    expect(size.code).not.toBe(0);
    expect(size.stderr).toMatch(/--max-memory.*"12XB" is not a size: give bytes or a number with a unit/);
    const worker = await ptune('worker', '--coordinator', '127.0.0.1:1', '--weights-dtype', 'int3');
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toMatch(/Allowed choices are auto, f32, f16, bf16, q8, q4/);
  });
});
