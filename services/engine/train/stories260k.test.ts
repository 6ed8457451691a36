import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { generateText } from './generate-text.js';
import { loadExampleSet } from './example-set.js';
import { train } from './train.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/feelings');

if (!stories260K.available) console.warn(`skipping stories260K training tests: ${stories260K.skipReason}`);

describe.skipIf(!stories260K.available)('prompt tuning stories260K', () => {
  it('a short tune on the feelings example improves held-out loss and accuracy', async () => {
    const model = await loadGguf(stories260K.ggufPath);
    const result = await train({
      model,
      train: await loadExampleSet(path.join(examples, 'train.jsonl'), model, 8),
      eval: await loadExampleSet(path.join(examples, 'eval.jsonl'), model, 8),
      virtualTokens: 8,
      init: { kind: 'sample-vocab' },
      steps: 60,
      lr: 0.03,
      batchSize: 16,
      seed: 0,
      threads: 2,
    });
    expect(result.evalAfter!.loss).toBeLessThan(0.6 * result.evalBefore!.loss);
    expect(result.evalAfter!.firstTokenAccuracy).toBeGreaterThan(result.evalBefore!.firstTokenAccuracy);
  });

  it('greedy generation without a prompt reproduces the reference continuation', async () => {
    const model = await loadGguf(stories260K.ggufPath);
    const reference = stories260K.reference().greedy_from_bos;
    // the reference starts from BOS alone; an empty text encodes to exactly [BOS]
    const out = await generateText(model, { text: '', maxTokens: reference.generated_ids.length, threads: 2 });
    expect(out.inputIds).toEqual(reference.prompt_ids);
    expect(out.outputIds).toEqual(reference.generated_ids);
  });
});
