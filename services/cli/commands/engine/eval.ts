/** `ptune eval`: held-out metrics of a prompt file (or of the bare model) on a JSONL dataset. */
import type { Command } from 'commander';
import { evaluatePrompt, largestSeqLen, loadExampleSet, openModel, readModelWeights, readStoredPrompt } from '../../../engine/index.js';
import { checkRunMemory } from './memory-check.js';
import { integerAtLeast, requireFile, requireModel, runtimeOptions, runtimeSettings, type RuntimeFlags } from './options.js';

interface EvalFlags extends RuntimeFlags {
  model: string;
  data: string;
  prompt?: string;
  batchSize: number;
  json?: boolean;
}

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description('evaluate a prompt (or the bare model): loss, first-token accuracy, exact match')
    .requiredOption('--model <path>', 'GGUF model file or Hugging Face checkpoint folder')
    .requiredOption('--data <file>', 'examples (JSONL: {"input", "output"} per line)')
    .option('--prompt <file>', 'prompt file (safetensors with prompt_embeddings)')
    .option('--batch-size <n>', 'examples per forward pass', integerAtLeast(1), 16)
    .option('--json', 'print one JSON object as the last line');
  for (const o of runtimeOptions()) command.addOption(o);
  command.action((flags: EvalFlags) => evalCommand(flags));
}

async function evalCommand(f: EvalFlags): Promise<void> {
  await requireModel(f.model);
  await requireFile(f.data, '--data');
  if (f.prompt) await requireFile(f.prompt, '--prompt');
  const opened = await openModel(f.model);
  const prompt = f.prompt ? await readStoredPrompt(f.prompt, opened.spec) : undefined;
  const virtualTokens = prompt?.numVirtualTokens ?? 0;
  const data = await loadExampleSet(f.data, opened, virtualTokens);
  const seqLen = largestSeqLen([data], virtualTokens, opened.spec.contextLength);
  await checkRunMemory(opened, f, { mode: 'forward', batch: f.batchSize, seqLen });
  const model = await readModelWeights(opened, f.weightsDtype);
  const m = await evaluatePrompt(model, data, {
    [prompt?.placement === 'past-key-values' ? 'prefix' : 'prompt']: prompt?.tensor,
    batchSize: f.batchSize,
    ...runtimeSettings(f),
  });
  const json = {
    eval_loss: m.loss,
    first_token_accuracy: m.firstTokenAccuracy,
    exact_match: m.exactMatch,
    examples: m.examples,
    output_tokens: m.outputTokens,
    virtual_tokens: prompt?.numVirtualTokens ?? 0,
    method: prompt?.method ?? null,
  };
  process.stdout.write(
    f.json
      ? JSON.stringify(json) + '\n'
      : `eval loss ${m.loss.toFixed(4)} · first-token accuracy ${m.firstTokenAccuracy.toFixed(3)} · exact match ` +
          `${m.exactMatch.toFixed(3)} (${m.examples} examples, ${m.outputTokens} output tokens)\n`,
  );
}
