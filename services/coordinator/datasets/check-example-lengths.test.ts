/**
 * Job submission's dataset check on chat data: the model's GGUF carries a chat template (Phi-3's
 * vocabulary fixture does), so `messages` lines are rendered and checked; a role the template
 * rejects is INVALID_ARGUMENT naming the field and line.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelChatTemplate } from '../../engine/chat/model-template.js';
import { vocabFixtures } from '../../engine/tokenizer/vocab-fixtures.js';
import { contentKey, LocalBlobStore } from '../../storage/index.js';
import { checkExampleLengths } from './check-example-lengths.js';
import { modelText } from './model-text.js';

const work = await mkdtemp(join(tmpdir(), 'ptune-chatcheck-'));
afterAll(() => rm(work, { recursive: true, force: true }));

async function put(blobs: LocalBlobStore, kind: 'model' | 'dataset', bytes: Uint8Array): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = contentKey(kind, sha256);
  await blobs.put(key, bytes, { sha256 });
  return key;
}

describe.skipIf(!vocabFixtures.available)('checkExampleLengths on chat datasets', () => {
  it('renders messages lines with the GGUF chat template and names the line of a rejected conversation', async () => {
    const blobs = new LocalBlobStore(work);
    const modelKey = await put(blobs, 'model', await readFile(vocabFixtures.ggufPath('phi-3')));
    const { tokenizer, chatTemplate } = await modelText(blobs, {
      fingerprint: modelKey.slice(-64),
      weightsFormat: 'gguf',
      weightsBlobKey: modelKey,
    });
    expect(chatTemplate).toBeDefined();
    const line = (messages: unknown): string => JSON.stringify({ messages }) + '\n';
    const good = line([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
    ]);
    const check = { field: 'tasks[0].train', tokenizer, chatTemplate, contextLength: 4096, virtualTokens: 8 };
    await expect(
      checkExampleLengths(blobs, { ...check, blobKey: await put(blobs, 'dataset', Buffer.from(good)) }),
    ).resolves.toBeUndefined();

    const nemo = await readFile(new URL('../../engine/chat/fixtures/mistralai-Mistral-Nemo-Instruct-2407.jinja', import.meta.url), 'utf8');
    const strict = modelChatTemplate(nemo, tokenizer, 'nemo');
    const bad =
      good +
      line([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
      ]);
    const badKey = await put(blobs, 'dataset', Buffer.from(bad));
    await expect(checkExampleLengths(blobs, { ...check, chatTemplate: strict, blobKey: badKey })).rejects.toThrow(
      /tasks\[0\]\.train \(dataset\/[0-9a-f]+\):2: the chat template \(nemo\) failed: After the optional system message, conversation roles must alternate/,
    );
    await expect(checkExampleLengths(blobs, { ...check, chatTemplate: undefined, blobKey: badKey })).rejects.toThrow(
      /:1: a "messages" line, but the model has no chat template/,
    );
  });
});
if (!vocabFixtures.available) console.warn(`skipping the chat dataset check test: ${vocabFixtures.skipReason}`);
