/**
 * `ptune generate`: continue a text with the model, optionally behind a trained prompt — locally
 * (--model, --prompt), or on an inference server (--server, --task/--alias), streaming its tokens.
 */
import type { Command } from 'commander';
import { toJson } from '@bufbuild/protobuf';
import { FinishReason, GenerateSummarySchema, type GenerateSummary } from '../../../gen/ptune/v1/inference_pb.js';
import { answeredModelName } from '../../../inference/model-name.js';
import { addPromptChoiceOptions, collect, promptChoice, type PromptChoiceFlags } from '../prompt-choice.js';
import { withClient } from '../registry/client.js';
import {
  integerAtLeast,
  nonNegativeNumber,
  requireFile,
  requireModel,
  runtimeOptions,
  runtimeSettings,
  type RuntimeFlags,
} from './options.js';

interface GenerateFlags extends RuntimeFlags, PromptChoiceFlags {
  model?: string;
  server?: string;
  text: string;
  prompt?: string;
  maxTokens: number;
  temperature: number;
  topP?: number;
  topK?: number;
  stop?: string[];
  seed: number;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('continue a text (greedy by default; stops at EOS): locally with --model, or on a server with --server')
    .option('--model <path>', 'GGUF model file or Hugging Face checkpoint folder (local generation)')
    .option('--server <host:port>', 'an inference server (ptune serve or ptune infer): stream the answer from it')
    .requiredOption('--text <text>', 'text to continue')
    .option('--prompt <file>', 'prompt file (safetensors with prompt_embeddings: virtual tokens or a prefix); local only')
    .option('--max-tokens <n>', 'new tokens at most', integerAtLeast(1), 64)
    .option('--temperature <t>', 'sampling temperature (0: greedy)', nonNegativeNumber, 0)
    .option('--top-p <p>', 'nucleus sampling (--server only)', nonNegativeNumber)
    .option('--top-k <k>', 'keep the k most likely tokens (--server only)', integerAtLeast(0))
    .option('--stop <text>', 'stop before this text (repeat; --server only)', collect)
    .option('--seed <n>', 'seed for sampling', integerAtLeast(0), 0)
    .option('--json', 'print one JSON object instead of the text');
  addPromptChoiceOptions(command);
  for (const o of runtimeOptions()) command.addOption(o);
  command.action((flags: GenerateFlags) => {
    if ((flags.model === undefined) === (flags.server === undefined)) throw new Error('name exactly one of --model (local) and --server');
    return flags.server === undefined ? generateLocally(flags, flags.model!) : generateOnServer(flags, flags.server);
  });
}

async function generateLocally(f: GenerateFlags, modelPath: string): Promise<void> {
  if (f.task !== undefined || f.topP !== undefined || f.topK !== undefined || f.stop !== undefined)
    throw new Error('--task, --top-p, --top-k and --stop need --server; locally, pass the prompt file with --prompt');
  await requireModel(modelPath);
  if (f.prompt) await requireFile(f.prompt, '--prompt');
  // the engine (onnxruntime) loads only for local generation
  const { generateText, openModel, readModelWeights, readStoredPrompt } = await import('../../../engine/index.js');
  const { checkRunMemory } = await import('./memory-check.js');
  const opened = await openModel(modelPath);
  const prompt = f.prompt ? await readStoredPrompt(f.prompt, opened.spec) : undefined;
  const textTokens = opened.tokenizer.encode(f.text).length;
  const seqLen = Math.min(opened.spec.contextLength, (prompt?.numVirtualTokens ?? 0) + textTokens + f.maxTokens);
  await checkRunMemory(opened, { ...f, model: modelPath }, { mode: 'forward', batch: 1, seqLen });
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

async function generateOnServer(f: GenerateFlags, server: string): Promise<void> {
  if (f.prompt !== undefined)
    throw new Error('--prompt is a local file; on a server, name the prompt with --task and --alias/--version/--latest');
  await withClient({ server }, async ({ inference }) => {
    const request = {
      prompt: promptChoice(f),
      input: { kind: { case: 'text' as const, value: f.text } },
      sampling: {
        maxTokens: f.maxTokens,
        temperature: f.temperature,
        topP: f.topP ?? 0,
        topK: f.topK ?? 0,
        stop: f.stop ?? [],
        seed: BigInt(f.seed),
      },
    };
    let completion = '';
    const ids: number[] = [];
    let summary: GenerateSummary | undefined;
    if (!f.json) process.stdout.write(f.text);
    for await (const message of inference.generate(request)) {
      if (message.part.case === 'chunk') {
        completion += message.part.value.text;
        ids.push(...message.part.value.tokenIds);
        if (!f.json) process.stdout.write(message.part.value.text);
      } else if (message.part.case === 'summary') summary = message.part.value;
    }
    if (f.json) {
      process.stdout.write(
        `${JSON.stringify({
          text: f.text,
          completion,
          output_ids: ids,
          served_by: answeredModelName(summary?.servedBy),
          summary: summary && toJson(GenerateSummarySchema, summary),
        })}\n`,
      );
    } else {
      const finish = summary ? FinishReason[summary.finishReason].toLowerCase() : 'unknown';
      process.stdout.write(`\n`);
      process.stderr.write(
        `[${answeredModelName(summary?.servedBy)}: ${summary?.completionTokens ?? ids.length} tokens, finish ${finish}]\n`,
      );
    }
  });
}
