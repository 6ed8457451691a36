/** `ptune generate`: continue a text with the model, optionally behind a trained prompt. */
import type { Command } from 'commander';
import { generateText, openModel, readModelWeights, readStoredPrompt } from '../../../engine/index.js';
import { checkRunMemory } from './memory-check.js';
import {
  integerAtLeast,
  nonNegativeNumber,
  requireFile,
  requireModel,
  runtimeOptions,
  runtimeSettings,
  type RuntimeFlags,
} from './options.js';

interface GenerateFlags extends RuntimeFlags {
  model: string;
  text: string;
  prompt?: string;
  maxTokens: number;
  temperature: number;
  seed: number;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('continue a text (greedy by default; stops at EOS)')
    .requiredOption('--model <path>', 'GGUF model file or Hugging Face checkpoint folder')
    .requiredOption('--text <text>', 'text to continue')
    .option('--prompt <file>', 'prompt file (safetensors with prompt_embeddings: virtual tokens or a prefix)')
    .option('--max-tokens <n>', 'new tokens at most', integerAtLeast(1), 64)
    .option('--temperature <t>', 'sampling temperature (0: greedy)', nonNegativeNumber, 0)
    .option('--seed <n>', 'seed for sampling', integerAtLeast(0), 0)
    .option('--json', 'print one JSON object instead of the text');
  for (const o of runtimeOptions()) command.addOption(o);
  command.action((flags: GenerateFlags) => generate(flags));
}

async function generate(f: GenerateFlags): Promise<void> {
  await requireModel(f.model);
  if (f.prompt) await requireFile(f.prompt, '--prompt');
  const opened = await openModel(f.model);
  const prompt = f.prompt ? await readStoredPrompt(f.prompt, opened.spec) : undefined;
  const textTokens = opened.tokenizer.encode(f.text).length;
  const seqLen = Math.min(opened.spec.contextLength, (prompt?.numVirtualTokens ?? 0) + textTokens + f.maxTokens);
  await checkRunMemory(opened, f, { mode: 'forward', batch: 1, seqLen });
  const model = await readModelWeights(opened, f.weightsDtype);
  const out = await generateText(model, {
    text: f.text,
    [prompt?.placement === 'past-key-values' ? 'prefix' : 'prompt']: prompt?.tensor,
    maxTokens: f.maxTokens,
    temperature: f.temperature,
    seed: f.seed,
    ...runtimeSettings(f),
  });
  process.stdout.write(
    f.json
      ? JSON.stringify({ text: f.text, completion: out.completion, output_ids: out.outputIds, stop: out.stop }) + '\n'
      : `${f.text}${out.completion}\n`,
  );
}
