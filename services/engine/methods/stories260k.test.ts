import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadGguf } from '../model/gguf.js';
import { stories260K } from '../model/stories260k-fixture.js';
import { loadExampleSet } from '../train/example-set.js';
import { train } from '../train/train.js';
import type { MethodOptions } from './method.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/feelings');

if (!stories260K.available) console.warn(`skipping stories260K method tests: ${stories260K.skipReason}`);

describe.skipIf(!stories260K.available)('P-tuning and prefix tuning of stories260K (feelings example, 60 steps)', () => {
  it.each<[string, MethodOptions, number]>([
    ['P-tuning (MLP)', { method: 'p_tuning', encoder: 'mlp' }, 0.01],
    ['prefix tuning', { method: 'prefix_tuning' }, 0.03],
  ])('%s improves held-out loss and first-token accuracy', async (_name, method, lr) => {
    const model = await loadGguf(stories260K.ggufPath);
    const result = await train({
      model,
      train: await loadExampleSet(path.join(examples, 'train.jsonl'), model, 8),
      eval: await loadExampleSet(path.join(examples, 'eval.jsonl'), model, 8),
      virtualTokens: 8,
      method,
      init: { kind: 'sample-vocab' },
      steps: 60,
      lr,
      batchSize: 16,
      seed: 0,
      threads: 2,
    });
    expect(result.evalAfter!.loss).toBeLessThan(0.5 * result.evalBefore!.loss);
    expect(result.evalAfter!.firstTokenAccuracy).toBeGreaterThan(result.evalBefore!.firstTokenAccuracy + 0.3);
  });
});
