/** Writes a training result as a prompt file (atomically) and, optionally, a PEFT export folder. */
import { writePeftExport, type PeftMethodConfig } from '../formats/peft.js';
import { peftMethodFields } from '../methods/peft-fields.js';
import type { LoadedModel } from '../model/load-model.js';
import { writeFileAtomic } from './atomic-write.js';
import { encodePromptFile, promptMetadata } from '../prompt/prompt-file.js';
import { parsePromptInit } from '../prompt/prompt-init.js';
import type { TrainResult } from './train.js';

export interface PromptOutputs {
  promptPath: string;
  peftDir?: string;
}

/** PEFT records how a prompt was initialized; a prompt started from a file maps to RANDOM (the weights are what count). */
function peftMethod(init: string): PeftMethodConfig {
  const parsed = parsePromptInit(init);
  switch (parsed.kind) {
    case 'sample-vocab':
      return { peftType: 'PROMPT_TUNING', init: 'SAMPLE_VOCAB' };
    case 'text':
      return { peftType: 'PROMPT_TUNING', init: 'TEXT', initText: parsed.text };
    default:
      return { peftType: 'PROMPT_TUNING', init: 'RANDOM' };
  }
}

export async function writePromptOutputs(
  result: TrainResult,
  model: LoadedModel,
  o: { out: string; peftDir?: string },
): Promise<PromptOutputs> {
  const metadata = promptMetadata(result.identity, result.dim, result.evalBefore, result.evalAfter);
  await writeFileAtomic(o.out, encodePromptFile(result.promptEmbeddings, result.dim, metadata));
  if (o.peftDir) {
    const config = model.spec;
    const fields = peftMethodFields(result.method, config) ?? {
      method: peftMethod(result.identity.init),
      tokenDim: config.dim,
      numAttentionHeads: config.nHeads,
    };
    await writePeftExport(o.peftDir, {
      baseModelNameOrPath: model.source.kind === 'gguf' ? model.source.path : model.source.dir,
      ...fields,
      numVirtualTokens: result.identity.virtualTokens,
      numLayers: config.nLayers,
      promptEmbeddings: result.promptEmbeddings,
      metadata,
    });
  }
  return { promptPath: o.out, peftDir: o.peftDir };
}
